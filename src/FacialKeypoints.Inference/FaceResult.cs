namespace FacialKeypoints.Inference;

/// <summary>One face found in an image.</summary>
/// <param name="Index">0-based position among the image's faces, best detection first.</param>
/// <param name="Box">The detector's box in image pixels (the whole image without a detector).</param>
/// <param name="Score">The detector's confidence in [0, 1] (1 without a detector).</param>
/// <param name="Landmarks">The landmarks as flat (x0, y0, x1, y1, ...) pixel-centre coordinates of the original image, in the order of <see cref="FacePipeline.Scheme"/>.</param>
/// <param name="Expression">The expression, or null when expression classification is off.</param>
public sealed record FaceResult(int Index, FaceBox Box, float Score, float[] Landmarks, ExpressionResult? Expression);

/// <summary>A face's expression: three classes, and the seven basic emotions beside them.</summary>
/// <param name="Label">The most likely of the three classes.</param>
/// <param name="Probabilities">Probabilities of the three classes, indexed by <see cref="ExpressionLabel"/> (they sum to 1).</param>
/// <param name="Emotion">The most likely basic emotion.</param>
/// <param name="EmotionProbabilities">Probabilities of the seven emotions, indexed by <see cref="BasicEmotion"/> (they sum to 1).</param>
public sealed record ExpressionResult(ExpressionLabel Label, float[] Probabilities, BasicEmotion Emotion, float[] EmotionProbabilities)
{
    /// <summary>The probability of one class.</summary>
    /// <param name="label">The class.</param>
    /// <returns>Its probability.</returns>
    public float ProbabilityOf(ExpressionLabel label) => Probabilities[(int)label];

    /// <summary>The probability of one emotion.</summary>
    /// <param name="emotion">The emotion.</param>
    /// <returns>Its probability.</returns>
    public float ProbabilityOf(BasicEmotion emotion) => EmotionProbabilities[(int)emotion];
}
