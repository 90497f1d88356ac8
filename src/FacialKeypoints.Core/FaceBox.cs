namespace FacialKeypoints.Core;

/// <summary>An axis-aligned box in image pixels (pixel-edge coordinates: the top-left pixel covers [0, 1) x [0, 1)).</summary>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public readonly record struct FaceBox(float X, float Y, float Width, float Height)
{
    /// <summary>Right edge.</summary>
    public float Right => X + Width;

    /// <summary>Bottom edge.</summary>
    public float Bottom => Y + Height;

    /// <summary>The box as <c>(x, y) width x height</c>, in whole pixels.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({X:F0}, {Y:F0}) {Width:F0}x{Height:F0}");

    /// <summary>Area in square pixels (0 for an empty box).</summary>
    public float Area => Math.Max(0, Width) * Math.Max(0, Height);

    /// <summary>Intersection over union with <paramref name="other"/>, in [0, 1].</summary>
    /// <param name="other">The other box.</param>
    /// <returns>The overlap ratio; 0 when either box is empty.</returns>
    public float IntersectionOverUnion(FaceBox other)
    {
        float w = Math.Min(Right, other.Right) - Math.Max(X, other.X);
        float h = Math.Min(Bottom, other.Bottom) - Math.Max(Y, other.Y);
        float inner = w > 0 && h > 0 ? w * h : 0;
        float union = Area + other.Area - inner;
        return union > 0 ? inner / union : 0;
    }

    /// <summary>The tightest box around flat pixel-centre points (x0, y0, x1, y1, ...), in pixel-edge coordinates.</summary>
    /// <param name="points">Flat points; at least one.</param>
    /// <returns>The bounding box.</returns>
    public static FaceBox Around(ReadOnlySpan<float> points)
    {
        if (points.Length < 2)
        {
            throw new ArgumentException("At least one point is needed.", nameof(points));
        }

        float x0 = float.MaxValue, y0 = float.MaxValue, x1 = float.MinValue, y1 = float.MinValue;
        for (int i = 0; i + 1 < points.Length; i += 2)
        {
            x0 = Math.Min(x0, points[i]);
            x1 = Math.Max(x1, points[i]);
            y0 = Math.Min(y0, points[i + 1]);
            y1 = Math.Max(y1, points[i + 1]);
        }

        return new FaceBox(x0 + 0.5f, y0 + 0.5f, x1 - x0, y1 - y0);
    }
}
