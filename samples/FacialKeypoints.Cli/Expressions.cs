using FacialKeypoints.Data;
using FacialKeypoints.Emotion;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.Cli;

/// <summary>A TorchSharp expression classifier (Emotion) for <c>bench-predict --expression</c>; <c>predict</c> uses the pipeline's ONNX network instead.</summary>
internal sealed class Expressions : IDisposable
{
    private readonly IExpressionClassifier classifier;

    private Expressions(IExpressionClassifier classifier) => this.classifier = classifier;

    /// <summary>Class names in the order of the probability columns.</summary>
    public static IReadOnlyList<string> Classes { get; } = [.. ExpressionLabels.All.Select(l => l.ToName())];

    public static Expressions Create(ExpressionClassifierKind kind) =>
        new(ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = kind }));

    /// <summary>Labels and probabilities (in <see cref="Classes"/> order) of several faces at once.</summary>
    public IReadOnlyList<(string Label, float[] Probabilities)> Classify(IReadOnlyList<RgbImage> images, IReadOnlyList<FacePrediction> faces)
    {
        var inputs = images.Select((image, i) => new ExpressionInput(faces[i].Keypoints, image)).ToArray();
        return [.. classifier.ClassifyBatch(inputs).Select(p => (p.Label.ToName(), ExpressionLabels.All.Select(l => p.Probabilities.GetValueOrDefault(l)).ToArray()))];
    }

    public void Dispose() => (classifier as IDisposable)?.Dispose();
}
