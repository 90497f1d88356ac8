namespace FacialKeypoints.Core;

/// <summary>
/// A 2D affine map (x', y') = (A x + B y + C, D x + E y + F) in pixel-edge coordinates, where the top-left
/// pixel covers [0, 1) x [0, 1). Keypoints use pixel-centre coordinates, so <see cref="MapKeypoints"/> shifts
/// by half a pixel on the way in and out.
/// </summary>
/// <param name="A">x' coefficient of x.</param>
/// <param name="B">x' coefficient of y.</param>
/// <param name="C">x' offset.</param>
/// <param name="D">y' coefficient of x.</param>
/// <param name="E">y' coefficient of y.</param>
/// <param name="F">y' offset.</param>
public readonly record struct AffineMatrix(float A, float B, float C, float D, float E, float F)
{
    /// <summary>The identity map.</summary>
    public static AffineMatrix Identity => new(1, 0, 0, 0, 1, 0);

    /// <summary>A translation.</summary>
    public static AffineMatrix Translation(float x, float y) => new(1, 0, x, 0, 1, y);

    /// <summary>A scaling about the origin.</summary>
    public static AffineMatrix Scaling(float sx, float sy) => new(sx, 0, 0, 0, sy, 0);

    /// <summary>A rotation about the origin, positive angles clockwise on screen (y points down).</summary>
    public static AffineMatrix Rotation(float radians)
    {
        float c = MathF.Cos(radians), s = MathF.Sin(radians);
        return new(c, -s, 0, s, c, 0);
    }

    /// <summary>The map that applies <paramref name="first"/>, then <paramref name="second"/>.</summary>
    public static AffineMatrix Then(AffineMatrix first, AffineMatrix second) => new(
        (second.A * first.A) + (second.B * first.D),
        (second.A * first.B) + (second.B * first.E),
        (second.A * first.C) + (second.B * first.F) + second.C,
        (second.D * first.A) + (second.E * first.D),
        (second.D * first.B) + (second.E * first.E),
        (second.D * first.C) + (second.E * first.F) + second.F);

    /// <summary>Maps a point given in pixel-edge coordinates.</summary>
    public (float X, float Y) Map(float x, float y) => ((A * x) + (B * y) + C, (D * x) + (E * y) + F);

    /// <summary>Maps flat pixel-centre keypoints (x0, y0, x1, y1, ...) into a new array.</summary>
    public float[] MapKeypoints(ReadOnlySpan<float> keypoints)
    {
        var result = new float[keypoints.Length];
        for (int i = 0; i + 1 < keypoints.Length; i += 2)
        {
            var (x, y) = Map(keypoints[i] + 0.5f, keypoints[i + 1] + 0.5f);
            result[i] = x - 0.5f;
            result[i + 1] = y - 0.5f;
        }

        return result;
    }
}
