using FacialKeypoints.Data.Runtime;

namespace FacialKeypoints.Emotion;

/// <summary>
/// The learned expression classifier: a softmax regression over eye-aligned landmark geometry and ImageNet
/// ResNet-18 features of an aligned face crop, with parameters fitted on the project's labels (shipped with the
/// package) or on the caller's own (see the EmotionFit sample). Needs only the image and its landmarks; it cuts
/// and encodes the crop itself. Owns a backbone once appearance is first needed; dispose it. Thread-safe.
/// </summary>
/// <remarks>
/// The shipped parameters read ImageNet ResNet-18 features, so this classifier (and
/// <see cref="ExpressionClassifierKind.Combined"/>, which contains it) needs ML.NET's ResNet18.onnx (62 MB), which
/// this package does not bring: give its path (<see cref="LearnedExpressionOptions.OnnxPath"/>, or the
/// <c>FKP_RESNET18_ONNX</c> environment variable) or reference <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>
/// (or <c>FacialKeypoints.Training</c>, which brings it), which copies it to the output folder. The file is looked
/// for when appearance is first needed; a missing file is a <see cref="FileNotFoundException"/> that says this.
/// The default classifier (<see cref="ExpressionClassifierKind.Network"/>) needs none of it.
/// </remarks>
public sealed class LearnedExpressionClassifier : IExpressionClassifier, IDisposable
{
    private readonly Lock gate = new();
    private readonly string? onnxPath;
    private readonly string? keypointModelPath;
    private readonly int batchSize;
    private readonly IReadOnlyList<ExpressionLabel> classes;
    private readonly SoftmaxRegressionModel regression;
    private AppearanceFeatureExtractor? extractor;
    private bool disposed;

    /// <summary>Creates the classifier from options: the parameters file named there, else the shipped parameters.</summary>
    /// <param name="options">Where the parameters and the ResNet-18 weights are; defaults when null.</param>
    public LearnedExpressionClassifier(LearnedExpressionOptions? options = null)
        : this(LoadParameters(options ?? new LearnedExpressionOptions()), options?.OnnxPath, options?.BatchSize ?? 32, options?.KeypointModelPath)
    {
    }

    /// <summary>Creates the classifier from parameters.</summary>
    /// <param name="parameters">The fitted parameters.</param>
    /// <param name="onnxPath">ResNet18.onnx, or null to search for it when appearance is needed.</param>
    /// <param name="batchSize">Crops per backbone pass in <see cref="ClassifyBatch"/>.</param>
    /// <param name="keypointModelPath">The keypoint checkpoint for parameters that use its backbone, or null for the shipped model.</param>
    public LearnedExpressionClassifier(ExpressionModelParameters parameters, string? onnxPath = null, int batchSize = 32, string? keypointModelPath = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        parameters.Validate("the classifier's parameters");
        Parameters = parameters;
        this.onnxPath = onnxPath;
        this.keypointModelPath = keypointModelPath;
        this.batchSize = batchSize;
        classes = parameters.ClassLabels;
        regression = parameters.ToRegression();
    }

    /// <inheritdoc/>
    public string Name => "learned";

    /// <summary>The fitted parameters in use.</summary>
    public ExpressionModelParameters Parameters { get; }

    /// <summary>Whether the model reads appearance features (and so needs the image or precomputed features).</summary>
    public bool UsesAppearance => Parameters.Appearance is not null;

    /// <inheritdoc/>
    public ExpressionPrediction Classify(ExpressionInput input) => ClassifyBatch([input])[0];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An input lacks landmarks, or lacks both the image and appearance features when the model needs them.</exception>
    /// <exception cref="FileNotFoundException">The model reads ImageNet features and ResNet18.onnx was not given or found.</exception>
    public IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var features = ComputeFeatures(inputs);
        return [.. features.Select(Predict)];
    }

    /// <summary>The model's feature vectors for faces (geometry, then appearance).</summary>
    /// <param name="inputs">The faces.</param>
    /// <returns>One vector of <see cref="ExpressionModelParameters.FeatureCount"/> values per face.</returns>
    public float[][] ComputeFeatures(IReadOnlyList<ExpressionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(disposed, this);
        float[][]? appearance = null;
        if (UsesAppearance)
        {
            appearance = new float[inputs.Count][];
            var pending = new List<int>();
            for (int i = 0; i < inputs.Count; i++)
            {
                var input = inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
                if (input.AppearanceFeatures is { } given)
                {
                    int expected = Parameters.Appearance!.FeatureCount();
                    if (given.Length != expected)
                    {
                        throw new ArgumentException($"Input {i} has {given.Length} appearance features, expected {expected}.", nameof(inputs));
                    }

                    appearance[i] = given;
                }
                else if (input.Image is null)
                {
                    throw new ArgumentException($"Input {i} has neither an image nor appearance features; the learned model needs one of them.", nameof(inputs));
                }
                else
                {
                    pending.Add(i);
                }
            }

            foreach (var group in pending.GroupBy(i => inputs[i].ResolvedScheme))
            {
                var rows = group.ToList();
                var computed = Extractor().Extract([.. rows.Select(i => (inputs[i].Image!, inputs[i].Landmarks))], group.Key);
                for (int k = 0; k < rows.Count; k++)
                {
                    appearance[rows[k]] = computed[k];
                }
            }
        }

        var result = new float[inputs.Count][];
        for (int i = 0; i < inputs.Count; i++)
        {
            var landmarks = inputs[i]?.Landmarks ?? throw new ArgumentException($"Input {i} has no landmarks.", nameof(inputs));
            var scheme = inputs[i].ResolvedScheme;
            float[]? geometry = Parameters.GeometryVersion is null ? null : GeometryFeatures.Compute(landmarks, scheme);
            float[]? photometric = Parameters.PhotometricVersion is null
                ? null
                : PhotometricFeatures.Compute(inputs[i].Image ?? throw new ArgumentException($"Input {i} has no image; the model's photometric features need it.", nameof(inputs)), landmarks, scheme);
            result[i] = ExpressionFeatureVector.Combine(geometry, photometric, appearance?[i]);
        }

        return result;
    }

    /// <summary>Classifies a precomputed feature vector (from <see cref="ComputeFeatures"/>).</summary>
    /// <param name="features">The features.</param>
    /// <returns>The prediction; classes the model does not know get probability 0.</returns>
    public ExpressionPrediction Predict(float[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var p = regression.PredictProbabilities(features);
        Span<float> all = stackalloc float[ExpressionLabels.Count];
        for (int c = 0; c < classes.Count; c++)
        {
            all[(int)classes[c]] = p[c];
        }

        return ExpressionPrediction.FromProbabilities(all);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (gate)
        {
            extractor?.Dispose();
            extractor = null;
            disposed = true;
        }
    }

    private AppearanceFeatureExtractor Extractor()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            TorchRuntime.EnsureInitialized();
            var spec = Parameters.Appearance!;
            // A missing ResNet18.onnx surfaces as ImageNetResNet18's FileNotFoundException, which names the file, the
            // package that brings it and the options that point at it.
            return extractor ??= new AppearanceFeatureExtractor(spec.Crop, spec.AverageMirror, spec.Pooling, onnxPath, batchSize, spec.Backbone, keypointModelPath);
        }
    }

    private static ExpressionModelParameters LoadParameters(LearnedExpressionOptions options) =>
        string.IsNullOrWhiteSpace(options.ParametersPath)
            ? ExpressionModelParameters.LoadEmbedded()
            : ExpressionModelParameters.Load(options.ParametersPath);
}

/// <summary>Joins the feature blocks in the order every model expects: geometry, photometric, then appearance.</summary>
internal static class ExpressionFeatureVector
{
    /// <summary>Concatenates the blocks that are present.</summary>
    /// <param name="geometry">Geometry features, or null.</param>
    /// <param name="appearance">Appearance features, or null.</param>
    /// <returns>A new vector.</returns>
    public static float[] Combine(float[]? geometry, float[]? appearance) => [.. geometry ?? [], .. appearance ?? []];

    /// <summary>Concatenates the blocks that are present.</summary>
    /// <param name="geometry">Geometry features, or null.</param>
    /// <param name="photometric">Photometric features, or null.</param>
    /// <param name="appearance">Appearance features, or null.</param>
    /// <returns>A new vector.</returns>
    public static float[] Combine(float[]? geometry, float[]? photometric, float[]? appearance) => [.. geometry ?? [], .. photometric ?? [], .. appearance ?? []];
}
