using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Emotion;

/// <summary>Which expression classifier to use.</summary>
public enum ExpressionClassifierKind
{
    /// <summary>
    /// The linear model on landmark geometry and ImageNet features (<see cref="LearnedExpressionClassifier"/>). Needs
    /// ML.NET's ResNet18.onnx, which this package does not bring: <see cref="LearnedExpressionOptions.OnnxPath"/>, or a
    /// reference to <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (or <c>FacialKeypoints.Training</c>).
    /// </summary>
    Learned = 0,

    /// <summary>The reference rule (<see cref="HeuristicExpressionClassifier"/>), to reproduce the reference.</summary>
    Rule = 1,

    /// <summary>
    /// The convolutional networks on the aligned face crop (<see cref="NetworkExpressionClassifier"/>); the default.
    /// Their weights are embedded in this package, so nothing else is needed at run time.
    /// </summary>
    Network = 2,

    /// <summary>
    /// The networks and the linear model, their probabilities averaged (<see cref="AveragedExpressionClassifier"/>,
    /// weights from <see cref="CombinedExpressionOptions"/>): a little more accurate than the networks alone on our
    /// labels (docs/emotion-results.md), but the linear model needs ResNet18.onnx as <see cref="Learned"/> does.
    /// </summary>
    Combined = 3,
}

/// <summary>How the combined classifier weighs its parts.</summary>
public sealed class CombinedExpressionOptions
{
    /// <summary>
    /// The network classifier's weight; the linear model gets the rest. Default 2/3: each of the three fitted models
    /// (two networks, one linear model) counts equally, as cross-validated.
    /// </summary>
    [Range(0.0, 1.0)]
    public double NetworkWeight { get; set; } = 2.0 / 3.0;
}

/// <summary>Where the network classifier finds its weights.</summary>
public sealed class NetworkExpressionOptions
{
    /// <summary>A network file written by the EmotionFit sample (<c>--network --out-network</c>); null or empty uses the shipped network.</summary>
    public string? NetworkPath { get; set; }

    /// <summary>Faces per forward pass. Default 32.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 32;
}

/// <summary>Where the learned classifier finds its parameters and backbone weights.</summary>
public sealed class LearnedExpressionOptions
{
    /// <summary>A parameters JSON file written by the EmotionFit sample; null or empty uses the shipped parameters.</summary>
    public string? ParametersPath { get; set; }

    /// <summary>
    /// ResNet18.onnx, which the shipped parameters need (ImageNet features) and this package does not bring; null
    /// searches the usual places (see <c>ImageNetResNet18.FindOnnxFile</c>: <c>FKP_RESNET18_ONNX</c>, the output
    /// folder, where a reference to <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> or <c>FacialKeypoints.Training</c>
    /// copies it, then the NuGet cache).
    /// </summary>
    public string? OnnxPath { get; set; }

    /// <summary>
    /// The keypoint checkpoint whose backbone gives appearance features, for parameters that use
    /// <see cref="AppearanceBackbone.KeypointResNet18"/>; null uses the shipped model (see <c>ShippedModel.FindOrThrow</c>).
    /// </summary>
    public string? KeypointModelPath { get; set; }

    /// <summary>Faces per backbone pass. Default 32.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 32;
}

/// <summary>Chooses and configures the expression classifier.</summary>
public sealed class ExpressionClassifierOptions
{
    /// <summary>The configuration section name, <c>Emotion</c>.</summary>
    public const string SectionName = "Emotion";

    /// <summary>
    /// Which classifier: <see cref="ExpressionClassifierKind.Network"/> (default; needs only this package),
    /// <see cref="ExpressionClassifierKind.Combined"/> or <see cref="ExpressionClassifierKind.Learned"/> (both need
    /// ResNet18.onnx, see <see cref="LearnedExpressionOptions.OnnxPath"/>) or <see cref="ExpressionClassifierKind.Rule"/>.
    /// </summary>
    [EnumDataType(typeof(ExpressionClassifierKind))]
    public ExpressionClassifierKind Classifier { get; set; } = ExpressionClassifierKind.Network;

    /// <summary>Weights of the combined classifier.</summary>
    [Required]
    public CombinedExpressionOptions Combined { get; set; } = new();

    /// <summary>Settings of the network classifier.</summary>
    [Required]
    public NetworkExpressionOptions Network { get; set; } = new();

    /// <summary>Settings of the learned classifier.</summary>
    [Required]
    public LearnedExpressionOptions Learned { get; set; } = new();

    /// <summary>Thresholds of the rule.</summary>
    [Required]
    public HeuristicExpressionOptions Rule { get; set; } = new();

    /// <summary>Validates these options and the nested ones.</summary>
    /// <returns>The problems, empty when valid.</returns>
    public IReadOnlyList<ValidationResult> ValidateAll()
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(this, new ValidationContext(this), results, validateAllProperties: true);
        if (Learned is not null)
        {
            Validator.TryValidateObject(Learned, new ValidationContext(Learned), results, validateAllProperties: true);
        }

        if (Combined is not null)
        {
            Validator.TryValidateObject(Combined, new ValidationContext(Combined), results, validateAllProperties: true);
        }

        if (Network is not null)
        {
            Validator.TryValidateObject(Network, new ValidationContext(Network), results, validateAllProperties: true);
        }

        if (Rule is not null)
        {
            Validator.TryValidateObject(Rule, new ValidationContext(Rule), results, validateAllProperties: true);
        }

        return results;
    }
}

/// <summary>Creates the classifier that options choose.</summary>
public static class ExpressionClassifierFactory
{
    /// <summary>Creates the classifier; all but the rule are <see cref="IDisposable"/>, so dispose the result when it is.</summary>
    /// <param name="options">The choice; defaults (the network classifier with the shipped weights) when null.</param>
    /// <returns>The classifier.</returns>
    /// <exception cref="ValidationException">The options are invalid.</exception>
    public static IExpressionClassifier Create(ExpressionClassifierOptions? options = null)
    {
        options ??= new ExpressionClassifierOptions();
        var problems = options.ValidateAll();
        if (problems.Count > 0)
        {
            throw new ValidationException(string.Join(" ", problems.Select(p => p.ErrorMessage)));
        }

        return options.Classifier switch
        {
            ExpressionClassifierKind.Rule => new HeuristicExpressionClassifier(options.Rule),
            ExpressionClassifierKind.Learned => new LearnedExpressionClassifier(options.Learned),
            ExpressionClassifierKind.Network => new NetworkExpressionClassifier(options.Network),
            _ => Combine(options),
        };
    }

    private static AveragedExpressionClassifier Combine(ExpressionClassifierOptions options)
    {
        var network = new NetworkExpressionClassifier(options.Network);
        try
        {
            return new AveragedExpressionClassifier(
                [(network, options.Combined.NetworkWeight), (new LearnedExpressionClassifier(options.Learned), 1 - options.Combined.NetworkWeight)]);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
