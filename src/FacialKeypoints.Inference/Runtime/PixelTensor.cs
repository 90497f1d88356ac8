namespace FacialKeypoints.Inference.Runtime;

/// <summary>
/// The one way pixels become network input: 8-bit RGB into float tensors, planar (NCHW, per-channel mean and
/// divisor on the 0..1 scale, optionally mirrored left-right or as grey) for our networks, interleaved (NHWC, one
/// scale and offset) for the detector.
/// </summary>
internal static class PixelTensor
{
    /// <summary>ITU-R BT.601 luma weights, for grey input.</summary>
    private const float LumaR = 0.299f, LumaG = 0.587f, LumaB = 0.114f;

    /// <summary>
    /// Writes <paramref name="image"/> as one plane per entry of <paramref name="mean"/>, each
    /// <c>(value / 255 - mean[c]) / std[c]</c>, where the value is the channel (three planes), or with
    /// <paramref name="grey"/> the luma rounded to a whole level, the same in every plane. With
    /// <paramref name="mirror"/> column x is read from column W - 1 - x.
    /// </summary>
    public static void WritePlanar(RgbImage image, Span<float> destination, ReadOnlySpan<float> mean, ReadOnlySpan<float> std, bool mirror = false, bool grey = false)
    {
        int width = image.Width, height = image.Height, plane = width * height, channels = mean.Length;
        if (destination.Length != channels * plane || std.Length != channels || (!grey && channels != 3))
        {
            throw new ArgumentException($"Expected {channels} planes of {plane} values, {channels} divisors, and three channels unless grey.");
        }

        var pixels = image.Pixels;
        Span<float> scale = stackalloc float[channels], offset = stackalloc float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = 1f / (255f * std[c]);
            offset[c] = mean[c] / std[c];
        }

        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int source = ((y * width) + (mirror ? width - 1 - x : x)) * 3, target = (y * width) + x;
                if (grey)
                {
                    float luma = MathF.Round((LumaR * pixels[source]) + (LumaG * pixels[source + 1]) + (LumaB * pixels[source + 2]));
                    for (int c = 0; c < channels; c++)
                    {
                        destination[(c * plane) + target] = (luma * scale[c]) - offset[c];
                    }

                    continue;
                }

                for (int c = 0; c < 3; c++)
                {
                    destination[(c * plane) + target] = (pixels[source + c] * scale[c]) - offset[c];
                }
            }
        }
    }

    /// <summary>Writes <paramref name="image"/> interleaved (H, W, 3) as <c>value * scale + offset</c>.</summary>
    public static void WriteInterleaved(RgbImage image, Span<float> destination, float scale, float offset)
    {
        var pixels = image.Pixels;
        if (destination.Length != pixels.Length)
        {
            throw new ArgumentException($"Expected {pixels.Length} values, got {destination.Length}.", nameof(destination));
        }

        for (int i = 0; i < pixels.Length; i++)
        {
            destination[i] = (pixels[i] * scale) + offset;
        }
    }
}
