using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion;

/// <summary>What an expression classifier looks at: one face's landmarks and, where the classifier uses appearance, its image.</summary>
/// <param name="Landmarks">
/// Flat (x0, y0, x1, y1, ...) landmarks of <see cref="Scheme"/> (iBUG-68 unless set) in the pixels of the ORIGINAL
/// image (pixel centres at whole numbers), ground truth or predicted.
/// </param>
/// <param name="Image">The original image; needed by the learned classifier unless <paramref name="AppearanceFeatures"/> is given, and by the rule in its reference (224x224) frame.</param>
/// <param name="AppearanceFeatures">
/// Optional precomputed appearance features, exactly as the learned model computes them for its crop (for example
/// kept from an earlier call); when given, the image is not cropped again.
/// </param>
public sealed record ExpressionInput(float[] Landmarks, RgbImage? Image = null, float[]? AppearanceFeatures = null)
{
    /// <summary>
    /// The original image's size when <see cref="Image"/> is not given; used by the rule's reference frame.
    /// Defaults to the image's size.
    /// </summary>
    public (int Width, int Height)? ImageSize { get; init; }

    /// <summary>
    /// The landmark scheme of <see cref="Landmarks"/>; null means <see cref="LandmarkScheme.Ibug68"/>. The classifiers
    /// find the eyes, mouth corners and lips through the scheme's named regions and points.
    /// </summary>
    public LandmarkScheme? Scheme { get; init; }

    /// <summary>The scheme in use: <see cref="Scheme"/>, else iBUG-68.</summary>
    public LandmarkScheme ResolvedScheme => Scheme ?? LandmarkScheme.Ibug68;

    /// <summary>The image size: <see cref="ImageSize"/> when set, else the size of <see cref="Image"/>, else null.</summary>
    public (int Width, int Height)? ResolvedImageSize => ImageSize ?? (Image is null ? null : (Image.Width, Image.Height));
}

/// <summary>A classifier's answer for one face.</summary>
/// <param name="Label">The most probable label.</param>
/// <param name="Probabilities">The probability of every label (they sum to 1; the rule gives 1 to its answer).</param>
public sealed record ExpressionPrediction(ExpressionLabel Label, IReadOnlyDictionary<ExpressionLabel, float> Probabilities)
{
    /// <summary>Builds a prediction from probabilities in class-index order; the label is the most probable class.</summary>
    /// <param name="probabilities">One probability per <see cref="ExpressionLabels.All"/> entry.</param>
    /// <returns>The prediction.</returns>
    public static ExpressionPrediction FromProbabilities(ReadOnlySpan<float> probabilities)
    {
        if (probabilities.Length != ExpressionLabels.Count)
        {
            throw new ArgumentException($"Expected {ExpressionLabels.Count} probabilities, got {probabilities.Length}.", nameof(probabilities));
        }

        var map = new Dictionary<ExpressionLabel, float>(ExpressionLabels.Count);
        int best = 0;
        for (int c = 0; c < probabilities.Length; c++)
        {
            map[(ExpressionLabel)c] = probabilities[c];
            if (probabilities[c] > probabilities[best])
            {
                best = c;
            }
        }

        return new ExpressionPrediction((ExpressionLabel)best, map);
    }

    /// <summary>A certain prediction: probability 1 for <paramref name="label"/>, 0 for the others.</summary>
    /// <param name="label">The label.</param>
    /// <returns>The prediction.</returns>
    public static ExpressionPrediction Certain(ExpressionLabel label)
    {
        Span<float> p = stackalloc float[ExpressionLabels.Count];
        p[(int)label] = 1;
        return FromProbabilities(p);
    }
}

/// <summary>Tags a face with a facial expression.</summary>
public interface IExpressionClassifier
{
    /// <summary>A short name: <c>rule</c> or <c>learned</c>.</summary>
    string Name { get; }

    /// <summary>Classifies one face.</summary>
    /// <param name="input">The face.</param>
    /// <returns>The label and class probabilities.</returns>
    ExpressionPrediction Classify(ExpressionInput input);

    /// <summary>Classifies several faces; classifiers that run a network batch them.</summary>
    /// <param name="inputs">The faces.</param>
    /// <returns>One prediction per input, in order.</returns>
    IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs);
}
