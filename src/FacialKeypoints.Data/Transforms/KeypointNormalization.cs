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

/// <summary>Per-channel mean and standard deviation (RGB) applied to pixel values in [0, 1].</summary>
/// <param name="Mean">R, G, B means.</param>
/// <param name="Std">R, G, B standard deviations.</param>
public sealed record ImageNormalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>The torchvision ImageNet statistics the reference pipeline used.</summary>
    public static ImageNormalization ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>Checks there are three finite means and three positive deviations.</summary>
    /// <exception cref="ArgumentException">The values are unusable.</exception>
    public void Validate()
    {
        if (Mean is not { Count: 3 } || Std is not { Count: 3 } || Mean.Any(m => !float.IsFinite(m)) || Std.Any(s => !(s > 0) || !float.IsFinite(s)))
        {
            throw new ArgumentException($"Image normalisation needs 3 finite means and 3 positive deviations; got mean [{string.Join(", ", Mean ?? [])}], std [{string.Join(", ", Std ?? [])}].");
        }
    }
}
