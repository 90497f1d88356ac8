using System.Text.Json;
using System.Text.Json.Serialization;

namespace FacialKeypoints.Emotion;

/// <summary>How the learned model computes its appearance features.</summary>
/// <param name="Backbone">The network or networks: the ImageNet ResNet-18, the shipped keypoint network's backbone, or both.</param>
/// <param name="Crop">The face region cut out and resized.</param>
/// <param name="AverageMirror">Whether the features of the crop and its mirror image are averaged.</param>
/// <param name="Pooling">Which layers are pooled.</param>
public sealed record AppearanceSpec(AppearanceBackbone Backbone, CropSpec Crop, bool AverageMirror, AppearancePooling Pooling = AppearancePooling.Layer4)
{
    /// <summary>The number of appearance features: the pooling's count for each backbone.</summary>
    /// <returns>The count.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The pooling or the backbone is not a defined member.</exception>
    public int FeatureCount() => AppearanceNames.FeatureCount(Pooling) * AppearanceNames.Parts(Backbone).Count;
}

/// <summary>
/// The fitted learned expression model, as stored in JSON: which features it reads (their definition versions,
/// the crop), the class order, the standardisation, and the softmax weights. The package ships one as an embedded
/// resource (<see cref="LoadEmbedded"/>); the EmotionFit sample writes new ones.
/// </summary>
public sealed class ExpressionModelParameters
{
    /// <summary>The format tag this version reads and writes.</summary>
    public const string CurrentFormat = "facialkeypoints-emotion/1";

    /// <summary>The manifest name of the embedded parameters.</summary>
    public const string EmbeddedResourceName = "FacialKeypoints.Emotion.expression-model.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The format tag; <see cref="CurrentFormat"/>.</summary>
    public string Format { get; set; } = CurrentFormat;

    /// <summary>The geometry feature definition (<see cref="GeometryFeatures.Version"/>), or null when geometry is not used.</summary>
    public string? GeometryVersion { get; set; }

    /// <summary>The <see cref="PhotometricFeatures.Version"/> read, or null when the model does not use them.</summary>
    public string? PhotometricVersion { get; set; }

    /// <summary>The appearance features, or null when appearance is not used.</summary>
    public AppearanceSpec? Appearance { get; set; }

    /// <summary>The classes the weights rows stand for, by CSV name (<c>neutral</c>, <c>positive</c>, maybe <c>negative</c>).</summary>
#pragma warning disable CA1819 // Serialised data.
    public string[] Classes { get; set; } = [];

    /// <summary>Per-feature offsets (training means).</summary>
    public float[] Means { get; set; } = [];

    /// <summary>Per-feature multipliers (1 / training standard deviation, times the block weight).</summary>
    public float[] Scales { get; set; } = [];

    /// <summary>One weight row per class.</summary>
    public float[][] Weights { get; set; } = [];

    /// <summary>One bias per class.</summary>
    public float[] Biases { get; set; } = [];
#pragma warning restore CA1819

    /// <summary>Free-form notes: the fit settings, the data and the cross-validation scores.</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];

    /// <summary>The number of features the model reads.</summary>
    [JsonIgnore]
    public int FeatureCount => Means.Length;

    /// <summary>The labels of the weight rows.</summary>
    [JsonIgnore]
    public IReadOnlyList<ExpressionLabel> ClassLabels =>
        [.. Classes.Select(c => ExpressionLabels.Parse(c) ?? throw new FormatException("'unclear' cannot be a model class."))];

    /// <summary>The regression part as a <see cref="SoftmaxRegressionModel"/>.</summary>
    /// <returns>The model (sharing these arrays).</returns>
    internal SoftmaxRegressionModel ToRegression() => new(Means, Scales, Weights, Biases);

    /// <summary>The parameters shipped with the package.</summary>
    /// <returns>The parameters.</returns>
    /// <exception cref="InvalidOperationException">The package was built without them.</exception>
    public static ExpressionModelParameters LoadEmbedded()
    {
        using var stream = typeof(ExpressionModelParameters).Assembly.GetManifestResourceStream(EmbeddedResourceName)
            ?? throw new InvalidOperationException($"The embedded resource '{EmbeddedResourceName}' is missing from {typeof(ExpressionModelParameters).Assembly.GetName().Name}.");
        return Load(stream, EmbeddedResourceName);
    }

    /// <summary>Reads parameters from a JSON file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The parameters.</returns>
    /// <exception cref="FormatException">The file is not valid model parameters.</exception>
    public static ExpressionModelParameters Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }

    /// <summary>Reads parameters from a JSON stream; <paramref name="source"/> names it in errors.</summary>
    /// <param name="stream">The JSON.</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The validated parameters.</returns>
    /// <exception cref="FormatException">The JSON is not valid model parameters.</exception>
    public static ExpressionModelParameters Load(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ExpressionModelParameters? parameters;
        try
        {
            parameters = JsonSerializer.Deserialize<ExpressionModelParameters>(stream, Json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"'{source}' is not valid expression model JSON: {e.Message}", e);
        }

        if (parameters is null)
        {
            throw new FormatException($"'{source}' is empty.");
        }

        parameters.Validate(source);
        return parameters;
    }

    /// <summary>Writes the parameters as JSON.</summary>
    /// <param name="stream">The destination.</param>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Validate("the parameters to save");
        JsonSerializer.Serialize(stream, this, Json);
    }

    /// <summary>Writes the parameters to a JSON file.</summary>
    /// <param name="path">The file; replaced if it exists.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.Create(path);
        Save(stream);
    }

    /// <summary>The feature count implied by the feature definitions.</summary>
    /// <returns>Geometry plus appearance feature counts.</returns>
    public int ExpectedFeatureCount() =>
        (GeometryVersion is null ? 0 : GeometryFeatures.Count) + (PhotometricVersion is null ? 0 : PhotometricFeatures.Count) + (Appearance is null ? 0 : Appearance.FeatureCount());

    /// <summary>Checks that the parameters are complete and consistent.</summary>
    /// <param name="source">A name for messages.</param>
    /// <exception cref="FormatException">They are not.</exception>
    public void Validate(string source)
    {
        string Fail(string problem) => throw new FormatException($"'{source}': {problem}");
        if (Format != CurrentFormat)
        {
            Fail($"format '{Format}' is not '{CurrentFormat}'.");
        }

        if (GeometryVersion is not null && GeometryVersion != GeometryFeatures.Version)
        {
            Fail($"geometry features '{GeometryVersion}' are not this version's '{GeometryFeatures.Version}'.");
        }

        if (PhotometricVersion is not null && PhotometricVersion != PhotometricFeatures.Version)
        {
            Fail($"photometric features '{PhotometricVersion}' are not this version's '{PhotometricFeatures.Version}'.");
        }

        if (GeometryVersion is null && PhotometricVersion is null && Appearance is null)
        {
            Fail("the model reads no features.");
        }

        if (Appearance is not null)
        {
            if (Appearance.Crop is null)
            {
                Fail("the appearance crop is missing.");
            }

            try
            {
                Appearance.Crop!.Validate();
                _ = Appearance.FeatureCount();
            }
            catch (ArgumentException e)
            {
                Fail(e.Message);
            }
        }

        IReadOnlyList<ExpressionLabel> labels = [];
        try
        {
            labels = ClassLabels;
        }
        catch (FormatException e)
        {
            Fail(e.Message);
        }

        if (labels.Count < 2 || labels.Distinct().Count() != labels.Count)
        {
            Fail("needs at least two distinct classes.");
        }

        int d = ExpectedFeatureCount();
        if (Means.Length != d || Scales.Length != d)
        {
            Fail($"expected {d} means and scales, got {Means.Length} and {Scales.Length}.");
        }

        if (Weights.Length != labels.Count || Biases.Length != labels.Count || Weights.Any(w => w is null || w.Length != d))
        {
            Fail($"expected {labels.Count} weight rows of {d} and {labels.Count} biases.");
        }

        if (Means.Concat(Scales).Concat(Biases).Concat(Weights.SelectMany(w => w)).Any(v => !float.IsFinite(v)))
        {
            Fail("a value is not finite.");
        }
    }
}
