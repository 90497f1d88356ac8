using FacialKeypoints.Data;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.Cli;

/// <summary>An expression label with class probabilities in <see cref="Expressions.Classes"/> order.</summary>
internal sealed record ExpressionResult(string Label, IReadOnlyList<float> Probabilities);

/// <summary>Chooses the expression classifier for <c>predict</c>.</summary>
internal abstract class Expressions
{
    public abstract IReadOnlyList<string> Classes { get; }

    public static Expressions Create(string mode, KeypointPredictor predictor) => mode switch
    {
        "rule" => new Rule(),
        "learned" => new Rule(), // replaced by the learned classifier once the Emotion package lands
        _ => throw new ArgumentException($"--expression must be 'learned' or 'rule', not '{mode}'."),
    };

    public abstract ExpressionResult Classify(RgbImage image, FacePrediction prediction);

    /// <summary>The reference's mouth-geometry rule in the 224 x 224 frame.</summary>
    private sealed class Rule : Expressions
    {
        public override IReadOnlyList<string> Classes { get; } = ["positive", "neutral", "negative"];

        public override ExpressionResult Classify(RgbImage image, FacePrediction prediction)
        {
            var k = prediction.Keypoints;
            float sx = 224f / image.Width, sy = 224f / image.Height;
            (float X, float Y) P(int i) => (k[2 * i] * sx, k[(2 * i) + 1] * sy);
            var (p36, p45, p48, p54, p51, p57, p62) = (P(36), P(45), P(48), P(54), P(51), P(57), P(62));
            float s = MathF.Sqrt(MathF.Pow(p45.X - p36.X, 2) + MathF.Pow(p45.Y - p36.Y, 2));
            float w = (p54.X - p48.X) / s, h = (p57.Y - p51.Y) / s, c = (((p48.Y + p54.Y) / 2) - p62.Y) / s;
            string label = c < -0.015f && w > 0.7f ? "positive" : c > 0.02f || h > 0.32f ? "negative" : "neutral";
            return new ExpressionResult(label, [.. Classes.Select(x => x == label ? 1f : 0f)]);
        }
    }
}
