namespace FacialKeypoints.Data.Transforms;

/// <summary>
/// Maps pixel-centre keypoints of a W x H image to [-1, 1] and back: x_n = (2x + 1) / W - 1, so the image's
/// left edge is -1, its right edge +1, and a horizontal flip is x_n -> -x_n.
/// </summary>
public static class KeypointNormalization
{
    /// <summary>Pixels to [-1, 1].</summary>
    public static float[] Normalize(ReadOnlySpan<float> keypoints, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var result = new float[keypoints.Length];
        for (int i = 0; i + 1 < keypoints.Length; i += 2)
        {
            result[i] = (((2 * keypoints[i]) + 1) / width) - 1;
            result[i + 1] = (((2 * keypoints[i + 1]) + 1) / height) - 1;
        }

        return result;
    }

    /// <summary>[-1, 1] to pixels.</summary>
    public static float[] Denormalize(ReadOnlySpan<float> normalized, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var result = new float[normalized.Length];
        for (int i = 0; i + 1 < normalized.Length; i += 2)
        {
            result[i] = (((normalized[i] + 1) * width) - 1) / 2;
            result[i + 1] = (((normalized[i + 1] + 1) * height) - 1) / 2;
        }

        return result;
    }

    /// <summary>
    /// Maps keypoints from a square network frame of <paramref name="size"/> pixels (made by <see cref="Rescale"/>)
    /// back to the original image's pixels.
    /// </summary>
    public static float[] FromSquareFrame(ReadOnlySpan<float> keypoints, int size, int originalWidth, int originalHeight)
    {
        var inverse = AffineMatrix.Scaling((float)originalWidth / size, (float)originalHeight / size);
        return inverse.MapKeypoints(keypoints);
    }
}
