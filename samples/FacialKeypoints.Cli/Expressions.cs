using FacialKeypoints.Data;
using FacialKeypoints.Emotion;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.Cli;

/// <summary>The expression column of <c>predict</c>: the combined classifier by default; the crop networks, the linear model or the reference rule on request.</summary>
internal sealed class Expressions : IDisposable
{
    private readonly IExpressionClassifier classifier;

    private Expressions(IExpressionClassifier classifier) => this.classifier = classifier;

    /// <summary>Class names in the order of the probability columns.</summary>
    public static IReadOnlyList<string> Classes { get; } = [.. ExpressionLabels.All.Select(l => l.ToName())];

    public static Expressions Create(string mode) => mode switch
    {
        "combined" => new Expressions(ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = ExpressionClassifierKind.Combined })),
        "network" => new Expressions(ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = ExpressionClassifierKind.Network })),
        "learned" => new Expressions(ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = ExpressionClassifierKind.Learned })),
        "rule" => new Expressions(ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = ExpressionClassifierKind.Rule })),
        _ => throw new ArgumentException($"--expression must be 'combined', 'network', 'learned' or 'rule', not '{mode}'."),
    };

    /// <summary>Labels and probabilities (in <see cref="Classes"/> order) of several faces at once.</summary>
    public IReadOnlyList<(string Label, float[] Probabilities)> Classify(IReadOnlyList<RgbImage> images, IReadOnlyList<FacePrediction> faces)
    {
        var inputs = images.Select((image, i) => new ExpressionInput(faces[i].Keypoints, image)).ToArray();
        return [.. classifier.ClassifyBatch(inputs).Select(p => (p.Label.ToName(), ExpressionLabels.All.Select(l => p.Probabilities.GetValueOrDefault(l)).ToArray()))];
    }

    public void Dispose() => (classifier as IDisposable)?.Dispose();
}
