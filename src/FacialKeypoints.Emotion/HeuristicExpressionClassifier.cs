using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Emotion;

/// <summary>Thresholds and frame of the reference mouth-geometry rule; the defaults reproduce the reference exactly.</summary>
public sealed class HeuristicExpressionOptions
{
    /// <summary>Positive needs a corner lift <c>c</c> below this (corners above the inner upper lip). Default -0.015.</summary>
    [Range(-1.0, 1.0)]
    public double PositiveMaxCornerDrop { get; set; } = -0.015;

    /// <summary>Positive also needs a mouth width <c>w</c> above this. Default 0.7.</summary>
    [Range(0.0, 5.0)]
    public double PositiveMinWidth { get; set; } = 0.7;

    /// <summary>Negative when the corner drop <c>c</c> is above this. Default 0.02.</summary>
    [Range(-1.0, 1.0)]
    public double NegativeMinCornerDrop { get; set; } = 0.02;

    /// <summary>Negative when the mouth height <c>h</c> is above this. Default 0.32.</summary>
    [Range(0.0, 5.0)]
    public double NegativeMinHeight { get; set; } = 0.32;

    /// <summary>
    /// Whether to rescale landmarks to the reference's square frame first (x * size / width, y * size / height), as the
    /// reference did. Needs the image size. Default true; false applies the rule in the original pixels.
    /// </summary>
    public bool UseReferenceFrame { get; set; } = true;

    /// <summary>The side of the reference frame in pixels. Default 224.</summary>
    [Range(1, 4096)]
    public int ReferenceSize { get; set; } = 224;
}

/// <summary>
/// The three mouth measurements the rule reads, each divided by the outer-eye-corner distance s. Indices are
/// iBUG-68's; other schemes give the same points by name (<see cref="LandmarkScheme.Points"/>).
/// </summary>
/// <param name="Width">w = (p54.x - p48.x) / s: mouth width (left_mouth_corner - right_mouth_corner).</param>
/// <param name="Height">h = (p57.y - p51.y) / s: outer mouth height (lower_lip_bottom - upper_lip_top).</param>
/// <param name="CornerDrop">c = ((p48.y + p54.y) / 2 - p62.y) / s: how far the corners lie below the inner upper lip (upper_lip_inner; negative: above).</param>
public readonly record struct MouthMeasurements(double Width, double Height, double CornerDrop);

/// <summary>
/// The reference project's rule on mouth geometry, on the points the input's <see cref="LandmarkScheme"/> names.
/// With s = |p45 - p36| (the scheme's normalisation pair), w, h and c as in <see cref="MouthMeasurements"/>:
/// positive if c &lt; -0.015 and w &gt; 0.7; else negative if c &gt; 0.02 or h &gt; 0.32; else neutral. By default
/// the landmarks are first rescaled to the 224x224 frame the reference used. It is kept so results can be
/// reproduced; on our labels it is right about a third of the time.
/// </summary>
public sealed class HeuristicExpressionClassifier : IExpressionClassifier
{
    private readonly HeuristicExpressionOptions options;

    /// <summary>Creates the rule.</summary>
    /// <param name="options">Thresholds; the defaults reproduce the reference.</param>
    public HeuristicExpressionClassifier(HeuristicExpressionOptions? options = null)
    {
        this.options = options ?? new HeuristicExpressionOptions();
        Validator.ValidateObject(this.options, new ValidationContext(this.options), validateAllProperties: true);
    }

    /// <inheritdoc/>
    public string Name => "rule";

    /// <summary>The rule's measurements of a face, in the frame the options choose.</summary>
    /// <param name="input">The face; its image size is needed when <see cref="HeuristicExpressionOptions.UseReferenceFrame"/> is set.</param>
    /// <returns>w, h and c.</returns>
    /// <exception cref="ArgumentException">The landmarks do not fit the input's scheme, no image size for the reference frame, or coincident eye corners.</exception>
    /// <exception cref="KeyNotFoundException">The input's scheme does not name the mouth points the rule reads.</exception>
    public MouthMeasurements Measure(ExpressionInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        float[] p = input.Landmarks ?? throw new ArgumentException("The input has no landmarks.", nameof(input));
        var scheme = input.ResolvedScheme;
        if (p.Length != scheme.ValueCount)
        {
            throw new ArgumentException($"Expected {scheme.Count} landmarks ({scheme.ValueCount} values) of the {scheme.Name} scheme, got {p.Length} values.", nameof(input));
        }

        double sx = 1, sy = 1;
        if (options.UseReferenceFrame)
        {
            var size = input.ResolvedImageSize
                ?? throw new ArgumentException("The rule's reference frame needs the image size: give the image or ImageSize.", nameof(input));
            sx = (double)options.ReferenceSize / size.Width;
            sy = (double)options.ReferenceSize / size.Height;
        }

        var m = new FacePoints(scheme);
        double X(int i) => p[2 * i] * sx;
        double Y(int i) => p[(2 * i) + 1] * sy;
        double s = Math.Sqrt(Math.Pow(X(m.LeftEyeOuter) - X(m.RightEyeOuter), 2) + Math.Pow(Y(m.LeftEyeOuter) - Y(m.RightEyeOuter), 2));
        if (!(s > 0))
        {
            throw new ArgumentException($"The outer eye corners ({m.RightEyeOuter}, {m.LeftEyeOuter}) coincide; the face cannot be measured.", nameof(input));
        }

        double w = (X(m.LeftMouthCorner) - X(m.RightMouthCorner)) / s;
        double h = (Y(m.LowerLipBottom) - Y(m.UpperLipTop)) / s;
        double c = (((Y(m.RightMouthCorner) + Y(m.LeftMouthCorner)) / 2) - Y(m.UpperLipInner)) / s;
        return new MouthMeasurements(w, h, c);
    }

    /// <summary>Applies the thresholds to measurements.</summary>
    /// <param name="m">The measurements.</param>
    /// <returns>The rule's label.</returns>
    public ExpressionLabel Decide(MouthMeasurements m)
    {
        if (m.CornerDrop < options.PositiveMaxCornerDrop && m.Width > options.PositiveMinWidth)
        {
            return ExpressionLabel.Positive;
        }

        return m.CornerDrop > options.NegativeMinCornerDrop || m.Height > options.NegativeMinHeight
            ? ExpressionLabel.Negative
            : ExpressionLabel.Neutral;
    }

    /// <inheritdoc/>
    public ExpressionPrediction Classify(ExpressionInput input) => ExpressionPrediction.Certain(Decide(Measure(input)));

    /// <inheritdoc/>
    public IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return [.. inputs.Select(Classify)];
    }
}
