namespace FacialKeypoints.Core;

/// <summary>
/// How much image lies around the landmark box in a training crop, as fractions of the box: the left and right
/// margins of the box width, the top and bottom margins of its height. The box spans the 68 points' extremes.
/// </summary>
/// <param name="Left">Margin left of the box, in box widths.</param>
/// <param name="Right">Margin right of the box, in box widths.</param>
/// <param name="Top">Margin above the box, in box heights (the forehead above the brows).</param>
/// <param name="Bottom">Margin below the box, in box heights.</param>
public readonly record struct FaceFraming(float Left, float Right, float Top, float Bottom)
{
    /// <summary>
    /// The framing of the YouTube Faces training crops: medians over the 3462 training rows of the distance from
    /// the image border to the landmark box (left and right pooled: 0.668 of the box width; top 0.995 and bottom
    /// 0.725 of its height). See docs/dataset.md.
    /// </summary>
    public static FaceFraming Training => new(0.668f, 0.668f, 0.995f, 0.725f);

    /// <summary>The framing rectangle around <paramref name="box"/>: the box widened by the margins.</summary>
    /// <param name="box">The landmark box (or a detector's box, with margins measured for that detector).</param>
    /// <returns>The rectangle the network expects to see, in the same pixels.</returns>
    public FaceBox Around(FaceBox box)
    {
        float w = Math.Max(box.Width, 1), h = Math.Max(box.Height, 1);
        return new FaceBox(box.X - (Left * w), box.Y - (Top * h), w * (1 + Left + Right), h * (1 + Top + Bottom));
    }

    /// <summary>The framing rectangle around flat pixel-centre landmarks.</summary>
    /// <param name="landmarks">Flat (x0, y0, ...) points.</param>
    /// <returns>The rectangle, in the landmarks' pixels.</returns>
    public FaceBox AroundLandmarks(ReadOnlySpan<float> landmarks) => Around(FaceBox.Around(landmarks));
}
