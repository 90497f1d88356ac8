using System.Globalization;
using System.Text;
using FacialKeypoints.Data;
using FacialKeypoints.Emotion;

namespace FacialKeypoints.EmotionFit.Fitting;

/// <summary>What to refit from: labels, images and landmarks, and how to evaluate.</summary>
internal sealed class ExpressionRefitRequest
{
    /// <summary>The label CSV (<c>name,label</c>); <c>unclear</c> rows are excluded.</summary>
    public required string LabelsPath { get; init; }

    /// <summary>The folder holding the labelled images.</summary>
    public required string ImageDirectory { get; init; }

    /// <summary>The landmark CSV the model is fitted on (Udacity layout: a header, then name and 136 coordinates in original pixels).</summary>
    public required string LandmarksPath { get; init; }

    /// <summary>
    /// The landmark CSV the held-out faces are scored with, for example a keypoint model's predictions (header
    /// <c>name,x0,y0,...,x67,y67</c>); null scores with <see cref="LandmarksPath"/>.
    /// </summary>
    public string? EvaluationLandmarksPath { get; init; }

    /// <summary>The fit settings.</summary>
    public ExpressionFitOptions FitOptions { get; init; } = new();

    /// <summary>Cross-validation folds (grouped by identity). Default 5.</summary>
    public int Folds { get; init; } = 5;

    /// <summary>The fold assignment's seed. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>When positive, also score with evaluation landmarks jittered by Gaussian noise of this fraction of the inter-ocular distance. Default 0.03.</summary>
    public double JitterFraction { get; init; } = 0.03;

    /// <summary>ResNet18.onnx, or null to search for it.</summary>
    public string? OnnxPath { get; init; }

    /// <summary>The keypoint checkpoint whose backbone gives appearance features when the options name <see cref="AppearanceBackbone.KeypointResNet18"/>; null uses the shipped model.</summary>
    public string? KeypointModelPath { get; init; }
}

/// <summary>The outcome of a refit: the parameters fitted on every face, and cross-validated scores of the rule, always-neutral and the learned model.</summary>
/// <param name="Parameters">The learned model fitted on all usable faces.</param>
/// <param name="FaceCount">Faces used (labelled and not unclear).</param>
/// <param name="UnclearCount">Faces excluded as unclear.</param>
/// <param name="IdentityCount">Distinct identities among the faces.</param>
/// <param name="EvaluationSource">Which landmarks the scores used.</param>
/// <param name="Rule">The reference rule on the evaluation landmarks.</param>
/// <param name="AlwaysNeutral">Always answering neutral.</param>
/// <param name="Learned">The learned model, identity-grouped cross-validation.</param>
/// <param name="RuleJittered">The rule on jittered landmarks, when jitter was asked for.</param>
/// <param name="LearnedJittered">The learned model on jittered landmarks, when jitter was asked for.</param>
/// <param name="Names">The image name of each scored face, in order.</param>
/// <param name="LearnedPredictions">The learned model's out-of-fold prediction of each face, in <paramref name="Names"/> order.</param>
internal sealed record ExpressionRefitResult(
    ExpressionModelParameters Parameters,
    int FaceCount,
    int UnclearCount,
    int IdentityCount,
    string EvaluationSource,
    ConfusionMatrix Rule,
    ConfusionMatrix AlwaysNeutral,
    ConfusionMatrix Learned,
    ConfusionMatrix? RuleJittered,
    ConfusionMatrix? LearnedJittered,
    IReadOnlyList<string> Names,
    IReadOnlyList<ExpressionPrediction> LearnedPredictions)
{
    /// <summary>The scores as Markdown: one section per classifier with its confusion matrix and per-class precision, recall and F1.</summary>
    /// <param name="jitterFraction">The jitter used, for the headings.</param>
    /// <returns>The text.</returns>
    public string ToMarkdown(double jitterFraction)
    {
        var ci = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(ci, $"{FaceCount} faces ({UnclearCount} unclear excluded, {IdentityCount} identities); landmarks scored: {EvaluationSource}.");
        text.AppendLine();
        void Section(string title, ConfusionMatrix? m)
        {
            if (m is null)
            {
                return;
            }

            text.AppendLine(ci, $"#### {title}");
            text.AppendLine();
            text.AppendLine(m.ToMarkdown());
        }

        Section("Reference rule", Rule);
        Section("Always neutral", AlwaysNeutral);
        Section("Learned classifier (identity-grouped CV)", Learned);
        Section(string.Create(ci, $"Reference rule, landmarks jittered by {jitterFraction:0.###} x inter-ocular distance"), RuleJittered);
        Section(string.Create(ci, $"Learned classifier, landmarks jittered by {jitterFraction:0.###} x inter-ocular distance (identity-grouped CV)"), LearnedJittered);
        return text.ToString();
    }
}

/// <summary>
/// Refits the learned expression model from a label CSV, images and landmarks: scores the reference rule,
/// always-neutral and the learned model with identity-grouped cross-validation (optionally on other landmarks,
/// such as a keypoint model's predictions, and on jittered landmarks), then fits the parameters on every face.
/// </summary>
internal static class ExpressionRefitter
{
    /// <summary>Runs the refit.</summary>
    /// <param name="request">Inputs and settings.</param>
    /// <param name="progress">Optional progress messages.</param>
    /// <returns>The parameters and the scores.</returns>
    /// <exception cref="KeyNotFoundException">A labelled image has no landmarks.</exception>
    public static ExpressionRefitResult Run(ExpressionRefitRequest request, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var rows = ExpressionLabelCsv.Read(request.LabelsPath);
        var usable = rows.Where(r => r.Label is not null).ToList();
        var fitTable = ReadLandmarks(request.LandmarksPath);
        var evalTable = request.EvaluationLandmarksPath is null ? fitTable : ReadLandmarks(request.EvaluationLandmarksPath);
        string evalSource = request.EvaluationLandmarksPath is null
            ? $"{Path.GetFileName(request.LandmarksPath)} (as fitted)"
            : $"{Path.GetFileName(request.EvaluationLandmarksPath)}";

        var names = usable.Select(r => r.Name).ToList();
        var labels = usable.Select(r => r.Label!.Value).ToList();
        var identities = names.Select(SampleInfo.IdentityOf).ToList();
        var fitPoints = names.Select(n => Lookup(fitTable, n, request.LandmarksPath)).ToList();
        var evalPoints = names.Select(n => Lookup(evalTable, n, request.EvaluationLandmarksPath ?? request.LandmarksPath)).ToList();
        var images = new RgbImage[names.Count];
        try
        {
            Parallel.For(0, names.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => images[i] = ImageDecoder.Decode(Path.Combine(request.ImageDirectory, names[i])));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        var jittered = request.JitterFraction > 0 ? evalPoints.Select((p, i) => Jitter(p, request.JitterFraction, 1000 + i)).ToList() : null;
        progress?.Report($"{names.Count} faces, {identities.Distinct().Count()} identities, {rows.Count - usable.Count} unclear excluded.");

        var rule = new HeuristicExpressionClassifier();
        ConfusionMatrix RuleOn(List<float[]> points) =>
            ConfusionMatrix.From(labels, [.. points.Select((p, i) => rule.Classify(new ExpressionInput(p, images[i])).Label)]);
        var ruleMatrix = RuleOn(evalPoints);
        var ruleJittered = jittered is null ? null : RuleOn(jittered);
        var neutral = ConfusionMatrix.From(labels, [.. labels.Select(_ => ExpressionLabel.Neutral)]);

        var options = request.FitOptions;
        using var extractor = options.UseAppearance
            ? new AppearanceFeatureExtractor(options.Crop, options.AverageMirror, options.Pooling, request.OnnxPath, backbone: options.Backbone, keypointModelPath: request.KeypointModelPath)
            : null;
        float[][] Features(List<float[]> points) =>
            ExpressionModelFitter.ComputeFeatures([.. points.Select((p, i) => ((RgbImage?)images[i], p))], options, extractor);
        var fitFeatures = Features(fitPoints);
        progress?.Report("features computed on the fitting landmarks.");
        var evalFeatures = ReferenceEquals(evalTable, fitTable) ? fitFeatures : Features(evalPoints);
        // Augmented training copies: mirrored faces and faces with jittered landmarks; each follows its face's fold.
        var extraSets = new List<float[][]>();
        if (options.TrainMirror)
        {
            var mirroredImages = images.Select(Data.Transforms.HorizontalFlip.MirrorImage).ToArray();
            var mirroredPoints = fitPoints.Select((p, i) => Data.Transforms.HorizontalFlip.FlipKeypoints(p, images[i].Width, LandmarkScheme.Ibug68)).ToList();
            extraSets.Add(ExpressionModelFitter.ComputeFeatures([.. mirroredPoints.Select((p, i) => ((RgbImage?)mirroredImages[i], p))], options, extractor));
        }

        for (int k = 0; k < options.TrainJitterCopies; k++)
        {
            extraSets.Add(Features([.. fitPoints.Select((p, i) => Jitter(p, options.TrainJitterFraction, ((k + 1) * 100_000) + i))]));
        }

        IReadOnlyList<IReadOnlyList<float[]>>? extra = extraSets.Count == 0
            ? null
            : [.. Enumerable.Range(0, names.Count).Select(i => (IReadOnlyList<float[]>)[.. extraSets.Select(set => set[i])])];
        progress?.Report($"{extraSets.Count} augmented training copies computed.");
        var crossValidation = ExpressionModelFitter.CrossValidate(fitFeatures, evalFeatures, labels, identities, options, request.Folds, request.Seed, extra);
        var learned = crossValidation.Matrix;
        progress?.Report($"learned: {learned}");
        ConfusionMatrix? learnedJittered = null;
        if (jittered is not null)
        {
            learnedJittered = ExpressionModelFitter.CrossValidate(fitFeatures, Features(jittered), labels, identities, options, request.Folds, request.Seed, extra).Matrix;
            progress?.Report($"learned, jittered landmarks: {learnedJittered}");
        }

        var allFeatures = fitFeatures.Concat(extraSets.SelectMany(set => set)).ToList();
        var allLabels = Enumerable.Repeat(labels, 1 + extraSets.Count).SelectMany(l => l).ToList();
        var parameters = ExpressionModelFitter.Fit(allFeatures, allLabels, options);
        var ci = CultureInfo.InvariantCulture;
        parameters.Metadata["labels"] = Path.GetFileName(request.LabelsPath);
        parameters.Metadata["landmarks"] = Path.GetFileName(request.LandmarksPath);
        parameters.Metadata["cv"] = string.Create(ci, $"identity-grouped {request.Folds}-fold, seed {request.Seed}, scored on {evalSource}: accuracy {learned.Accuracy:0.000}, positive F1 {learned.F1(ExpressionLabel.Positive):0.000}");
        return new ExpressionRefitResult(parameters, names.Count, rows.Count - usable.Count, identities.Distinct().Count(), evalSource, ruleMatrix, neutral, learned, ruleJittered, learnedJittered, names, crossValidation.Predictions);
    }

    /// <summary>Adds Gaussian noise of <paramref name="fraction"/> times the inter-ocular distance to every coordinate (seeded).</summary>
    /// <param name="landmarks">Flat 68-point landmarks.</param>
    /// <param name="fraction">The noise's standard deviation as a fraction of the inter-ocular distance.</param>
    /// <param name="seed">The generator's seed.</param>
    /// <returns>New jittered landmarks.</returns>
    public static float[] Jitter(float[] landmarks, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(landmarks);
        var random = new Random(seed);
        double sigma = fraction * LandmarkScheme.Ibug68.NormalisingDistance(landmarks);
        var result = new float[landmarks.Length];
        for (int i = 0; i < landmarks.Length; i++)
        {
            double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
            result[i] = landmarks[i] + (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return result;
    }

    /// <summary>
    /// Reads a landmark CSV (<c>name,x0,y0,...,x67,y67</c>) into a table by image name. Also takes <c>fkp predict</c>
    /// output as it is: trailing <c>expression</c> and <c>p_*</c> columns are ignored. Errors name the file and line.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>Landmarks by image name.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="KeypointCsvException">A row is malformed (the message names the file and line).</exception>
    public static Dictionary<string, float[]> ReadLandmarks(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The landmark file '{path}' does not exist.", path);
        }

        var lines = File.ReadAllLines(path);
        int keep = 1 + LandmarkScheme.Ibug68.ValueCount;
        var header = lines.Length > 0 ? lines[0].Split(',') : [];
        bool predictOutput = header.Length > keep && header.Skip(keep).All(h => h.Trim() == "expression" || h.Trim().StartsWith("p_", StringComparison.Ordinal));
        if (predictOutput)
        {
            // Drop the classifier's columns row by row; every line stays on its line number for error messages.
            lines = [.. lines.Select(line => string.Join(',', line.Split(',').Take(keep)))];
        }

        using var reader = new StringReader(string.Join('\n', lines));
        return KeypointCsvReader.Read(reader, path, LandmarkScheme.Ibug68).Records.ToDictionary(r => r.Name, r => r.Keypoints, StringComparer.Ordinal);
    }

    private static float[] Lookup(Dictionary<string, float[]> table, string name, string source) =>
        table.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"'{name}' has a label but no landmarks in {source}.");
}
