using System.ComponentModel.DataAnnotations;
using System.Globalization;
using FacialKeypoints.Data;
using FacialKeypoints.Emotion;

namespace FacialKeypoints.EmotionFit.Fitting;

/// <summary>What the learned model does with the rare negative class.</summary>
internal enum NegativeHandling
{
    /// <summary>Two classes only (neutral, positive): negative faces are left out of fitting and never predicted.</summary>
    Exclude = 0,

    /// <summary>Three classes, negative learned like the others (with its class weight).</summary>
    Learn = 1,
}

/// <summary>Settings of a learned-model fit: which features, the regression, the negative class and landmark jitter.</summary>
internal sealed class ExpressionFitOptions
{
    /// <summary>Whether to use landmark geometry (<see cref="GeometryFeatures"/>). Default true.</summary>
    public bool UseGeometry { get; set; } = true;

    /// <summary>Whether to use the lips' colour relative to the skin (<see cref="PhotometricFeatures"/>). Default false.</summary>
    public bool UsePhotometric { get; set; }

    /// <summary>Whether to use appearance (ResNet-18 features of <see cref="Crop"/>). Default true.</summary>
    public bool UseAppearance { get; set; } = true;

    /// <summary>The appearance crop. Default <see cref="CropSpec.Face224"/>.</summary>
    public CropSpec Crop { get; set; } = CropSpec.Face224;

    /// <summary>The appearance backbones. Default <see cref="AppearanceBackbone.ImageNetResNet18"/>.</summary>
    [EnumDataType(typeof(AppearanceBackbone))]
    public AppearanceBackbone Backbone { get; set; } = AppearanceBackbone.ImageNetResNet18;

    /// <summary>Whether appearance averages the crop and its mirror image. Default false.</summary>
    public bool AverageMirror { get; set; }

    /// <summary>Which backbone layers become appearance features. Default <see cref="AppearancePooling.LandmarkLayer3"/>.</summary>
    [EnumDataType(typeof(AppearancePooling))]
    public AppearancePooling Pooling { get; set; } = AppearancePooling.LandmarkLayer3;

    /// <summary>Multiplier of the standardised appearance features relative to geometry (a per-block penalty). Default 0.3.</summary>
    [Range(0.01, 100.0)]
    public double AppearanceWeight { get; set; } = 0.3;

    /// <summary>L2 penalty. Default 0.2.</summary>
    [Range(0.0, 100.0)]
    public double L2 { get; set; } = 0.2;

    /// <summary>Class weight power: 0 none, 1 balanced (the default).</summary>
    [Range(0.0, 2.0)]
    public double ClassWeightPower { get; set; } = 1;

    /// <summary>The negative class. Default <see cref="NegativeHandling.Exclude"/>.</summary>
    public NegativeHandling Negative { get; set; } = NegativeHandling.Exclude;

    /// <summary>Whether fitting also sees every face mirrored (image flipped, landmarks flipped and re-indexed). Used by <see cref="ExpressionRefitter"/>. Default true.</summary>
    public bool TrainMirror { get; set; } = true;

    /// <summary>How many copies of every face with jittered landmarks fitting also sees. Used by <see cref="ExpressionRefitter"/>. Default 1.</summary>
    [Range(0, 10)]
    public int TrainJitterCopies { get; set; } = 1;

    /// <summary>The training jitter: Gaussian noise of this fraction of the inter-ocular distance per coordinate. Default 0.03.</summary>
    [Range(0.0, 0.5)]
    public double TrainJitterFraction { get; set; } = 0.03;

    /// <summary>A short text of the settings, for reports and metadata.</summary>
    /// <returns>The text.</returns>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"geometry={UseGeometry} photometric={UsePhotometric} appearance={UseAppearance} backbone={AppearanceNames.ToName(Backbone)} crop=({Crop.CenterU},{Crop.CenterV},{Crop.Extent},{Crop.Size}) mirror={AverageMirror} pooling={AppearanceNames.ToName(Pooling)} appearanceWeight={AppearanceWeight} l2={L2} classWeightPower={ClassWeightPower} negative={Negative} trainMirror={TrainMirror} trainJitter={TrainJitterCopies}x{TrainJitterFraction}");
}

/// <summary>Out-of-fold predictions of a cross-validation and their confusion matrix.</summary>
/// <param name="Predictions">One prediction per sample, each made by the model that did not see its identity.</param>
/// <param name="Matrix">The confusion matrix of those predictions.</param>
internal sealed record CrossValidationResult(IReadOnlyList<ExpressionPrediction> Predictions, ConfusionMatrix Matrix);

/// <summary>
/// Fits the learned expression model on feature vectors and cross-validates it with identity-grouped folds.
/// Feature vectors come from <see cref="ComputeFeatures"/> (geometry, then appearance) so fitting and inference
/// read the same features.
/// </summary>
internal static class ExpressionModelFitter
{
    /// <summary>
    /// The feature vectors of faces under the given options: geometry from each face's landmarks, appearance from its
    /// image through <paramref name="extractor"/> (whose crop must match the options).
    /// </summary>
    /// <param name="faces">Images and landmarks; the image may be null when appearance is off.</param>
    /// <param name="options">Which features.</param>
    /// <param name="extractor">The appearance extractor; needed when appearance is on.</param>
    /// <returns>One vector per face.</returns>
    public static float[][] ComputeFeatures(IReadOnlyList<(RgbImage? Image, float[] Landmarks)> faces, ExpressionFitOptions options, AppearanceFeatureExtractor? extractor)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(options);
        float[][]? appearance = null;
        if (options.UseAppearance)
        {
            if (extractor is null || extractor.Crop != options.Crop || extractor.AverageMirror != options.AverageMirror || extractor.Pooling != options.Pooling || extractor.Backbone != options.Backbone)
            {
                throw new ArgumentException("Appearance is on: pass an extractor with the options' backbone, crop, pooling and mirror setting.", nameof(extractor));
            }

            appearance = extractor.Extract([.. faces.Select(f => (f.Image ?? throw new ArgumentException("Appearance needs every image."), f.Landmarks))]);
        }

        return [.. faces.Select((f, i) => ExpressionFeatureVector.Combine(
            options.UseGeometry ? GeometryFeatures.Compute(f.Landmarks) : null,
            options.UsePhotometric ? PhotometricFeatures.Compute(f.Image ?? throw new ArgumentException("Photometric features need every image."), f.Landmarks) : null,
            appearance?[i]))];
    }

    /// <summary>Fits the model on labelled feature vectors.</summary>
    /// <param name="features">Vectors from <see cref="ComputeFeatures"/> under the same options.</param>
    /// <param name="labels">The label of each vector.</param>
    /// <param name="options">The settings.</param>
    /// <returns>Parameters ready to save or to use.</returns>
    /// <exception cref="ArgumentException">Counts differ, no features are selected, or a needed class has no sample.</exception>
    public static ExpressionModelParameters Fit(IReadOnlyList<float[]> features, IReadOnlyList<ExpressionLabel> labels, ExpressionFitOptions options)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        if (!options.UseGeometry && !options.UsePhotometric && !options.UseAppearance)
        {
            throw new ArgumentException("Choose geometry, photometric, appearance features or several.", nameof(options));
        }

        if (features.Count != labels.Count)
        {
            throw new ArgumentException($"{features.Count} feature vectors but {labels.Count} labels.");
        }

        var classes = options.Negative == NegativeHandling.Learn
            ? ExpressionLabels.All
            : [ExpressionLabel.Neutral, ExpressionLabel.Positive];
        var rows = new List<float[]>();
        var y = new List<int>();
        for (int i = 0; i < features.Count; i++)
        {
            int c = IndexOf(classes, labels[i]);
            if (c >= 0)
            {
                rows.Add(features[i]);
                y.Add(c);
            }
        }

        for (int c = 0; c < classes.Count; c++)
        {
            if (!y.Contains(c))
            {
                throw new ArgumentException($"No sample is labelled {classes[c].ToName()}; it cannot be learned.", nameof(labels));
            }
        }

        // Geometry and photometric features have weight 1, appearance its block weight.
        int geometryCount = (options.UseGeometry ? GeometryFeatures.Count : 0) + (options.UsePhotometric ? PhotometricFeatures.Count : 0);
        int expected = geometryCount + (options.UseAppearance ? new AppearanceSpec(options.Backbone, options.Crop, options.AverageMirror, options.Pooling).FeatureCount() : 0);
        if (rows[0].Length != expected)
        {
            throw new ArgumentException($"The vectors have {rows[0].Length} features; the options select {expected}.", nameof(features));
        }

        var featureWeights = new float[expected];
        for (int j = 0; j < expected; j++)
        {
            featureWeights[j] = j < geometryCount ? 1f : (float)options.AppearanceWeight;
        }

        var model = SoftmaxRegression.Fit(rows, y, classes.Count, new SoftmaxRegressionOptions
        {
            L2 = options.L2,
            ClassWeightPower = options.ClassWeightPower,
            FeatureWeights = featureWeights,
        });

        return new ExpressionModelParameters
        {
            GeometryVersion = options.UseGeometry ? GeometryFeatures.Version : null,
            PhotometricVersion = options.UsePhotometric ? PhotometricFeatures.Version : null,
            Appearance = options.UseAppearance ? new AppearanceSpec(options.Backbone, options.Crop, options.AverageMirror, options.Pooling) : null,
            Classes = [.. classes.Select(c => c.ToName())],
            Means = model.Means,
            Scales = model.Scales,
            Weights = model.Weights,
            Biases = model.Biases,
            Metadata = new Dictionary<string, string>
            {
                ["fit"] = options.Describe(),
                ["trainingSamples"] = rows.Count.ToString(CultureInfo.InvariantCulture),
                ["classCounts"] = string.Join(", ", classes.Select((c, k) => $"{c.ToName()}={y.Count(v => v == k)}")),
            },
        };
    }

    /// <summary>
    /// Identity-grouped k-fold cross-validation: each identity's faces are predicted by a model fitted without that
    /// identity. Evaluation vectors may differ from training vectors (for example computed from predicted or jittered
    /// landmarks) so that the evaluation matches inference.
    /// </summary>
    /// <param name="trainingFeatures">Vectors the models are fitted on, one per sample.</param>
    /// <param name="evaluationFeatures">Vectors the held-out faces are predicted from, one per sample (may be the same list).</param>
    /// <param name="labels">The label of each sample.</param>
    /// <param name="identities">The identity of each sample (<see cref="SampleInfo.IdentityOf"/>).</param>
    /// <param name="options">The settings.</param>
    /// <param name="folds">The number of folds. Default 5.</param>
    /// <param name="seed">The fold assignment's seed. Default 0.</param>
    /// <param name="extraTrainingFeatures">Optional further training vectors per sample (augmented copies); they follow their sample's fold.</param>
    /// <returns>Out-of-fold predictions and their confusion matrix.</returns>
    public static CrossValidationResult CrossValidate(
        IReadOnlyList<float[]> trainingFeatures,
        IReadOnlyList<float[]> evaluationFeatures,
        IReadOnlyList<ExpressionLabel> labels,
        IReadOnlyList<string> identities,
        ExpressionFitOptions options,
        int folds = 5,
        int seed = 0,
        IReadOnlyList<IReadOnlyList<float[]>>? extraTrainingFeatures = null)
    {
        ArgumentNullException.ThrowIfNull(trainingFeatures);
        ArgumentNullException.ThrowIfNull(evaluationFeatures);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(identities);
        int n = labels.Count;
        if (trainingFeatures.Count != n || evaluationFeatures.Count != n || identities.Count != n || (extraTrainingFeatures is not null && extraTrainingFeatures.Count != n))
        {
            throw new ArgumentException("Features, labels and identities must have one entry per sample.");
        }

        var predictions = new ExpressionPrediction[n];
        foreach (var split in DatasetSplits.IdentityKFold(identities, folds, seed))
        {
            var x = new List<float[]>();
            var y = new List<ExpressionLabel>();
            foreach (int i in split.Train)
            {
                x.Add(trainingFeatures[i]);
                y.Add(labels[i]);
                foreach (var extra in extraTrainingFeatures?[i] ?? [])
                {
                    x.Add(extra);
                    y.Add(labels[i]);
                }
            }

            using var classifier = new LearnedExpressionClassifier(Fit(x, y, options));
            foreach (int i in split.Validation)
            {
                predictions[i] = classifier.Predict(evaluationFeatures[i]);
            }
        }

        return new CrossValidationResult(predictions, ConfusionMatrix.From(labels, [.. predictions.Select(p => p.Label)]));
    }

    private static int IndexOf(IReadOnlyList<ExpressionLabel> classes, ExpressionLabel label)
    {
        for (int c = 0; c < classes.Count; c++)
        {
            if (classes[c] == label)
            {
                return c;
            }
        }

        return -1;
    }
}
