namespace FacialKeypoints.Data.Transforms;

/// <summary>
/// A random Gaussian blur, like the soft focus and motion of video frames. Photometric: keypoints are untouched.
/// The parameter is the standard deviation in pixels; 0 leaves the image as it is.
/// </summary>
public sealed class GaussianBlur : KeypointTransform<float>
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance of blurring a sample.</param>
    /// <param name="minSigma">Smallest standard deviation in pixels.</param>
    /// <param name="maxSigma">Largest standard deviation in pixels.</param>
    public GaussianBlur(double probability = 0.3, float minSigma = 0.3f, float maxSigma = 1.5f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(minSigma);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSigma, minSigma);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSigma, 20f);
        Probability = probability;
        MinSigma = minSigma;
        MaxSigma = maxSigma;
    }

    /// <summary>Chance of blurring a sample.</summary>
    public double Probability { get; }

    /// <summary>Smallest standard deviation.</summary>
    public float MinSigma { get; }

    /// <summary>Largest standard deviation.</summary>
    public float MaxSigma { get; }

    /// <inheritdoc/>
    public override float Sample(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        bool blur = random.NextDouble() < Probability;
        float sigma = MinSigma + ((MaxSigma - MinSigma) * random.NextSingle());
        return blur ? sigma : 0;
    }

    /// <inheritdoc/>
    public override FaceSample Apply(FaceSample sample, float parameters)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return parameters <= 0 ? sample : sample with { Image = Blur(sample.Image, parameters) };
    }

    /// <summary>Separable Gaussian blur with a kernel of radius ceil(3 sigma); borders repeat the edge pixel.</summary>
    internal static RgbImage Blur(RgbImage image, float sigma)
    {
        int radius = Math.Max(1, (int)MathF.Ceiling(3 * sigma));
        var kernel = new float[(2 * radius) + 1];
        for (int i = -radius; i <= radius; i++)
        {
            kernel[i + radius] = MathF.Exp(-(i * i) / (2 * sigma * sigma));
        }

        float sum = kernel.Sum();
        for (int i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= sum;
        }

        int w = image.Width, h = image.Height;
        var src = image.Pixels;
        var rows = new float[src.Length];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int k = -radius; k <= radius; k++)
                {
                    int s = ((y * w) + Math.Clamp(x + k, 0, w - 1)) * 3;
                    float weight = kernel[k + radius];
                    r += weight * src[s];
                    g += weight * src[s + 1];
                    b += weight * src[s + 2];
                }

                int d = ((y * w) + x) * 3;
                rows[d] = r;
                rows[d + 1] = g;
                rows[d + 2] = b;
            }
        }

        var result = new RgbImage(w, h);
        var dst = result.Pixels;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int k = -radius; k <= radius; k++)
                {
                    int s = ((Math.Clamp(y + k, 0, h - 1) * w) + x) * 3;
                    float weight = kernel[k + radius];
                    r += weight * rows[s];
                    g += weight * rows[s + 1];
                    b += weight * rows[s + 2];
                }

                int d = ((y * w) + x) * 3;
                dst[d] = (byte)Math.Clamp(MathF.Round(r), 0, 255);
                dst[d + 1] = (byte)Math.Clamp(MathF.Round(g), 0, 255);
                dst[d + 2] = (byte)Math.Clamp(MathF.Round(b), 0, 255);
            }
        }

        return result;
    }
}

/// <summary>
/// Random loss of resolution: the image is scaled down by a factor and back up to its size (the detail of a
/// low-resolution video frame). The size and the keypoints are unchanged. The parameter is the factor; 1 leaves
/// the image as it is.
/// </summary>
public sealed class LowResolution : KeypointTransform<float>
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance of degrading a sample.</param>
    /// <param name="minScale">Smallest factor (0.4: down to 40% of each side).</param>
    /// <param name="maxScale">Largest factor.</param>
    public LowResolution(double probability = 0.3, float minScale = 0.4f, float maxScale = 0.9f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minScale);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxScale, minScale);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxScale, 1f);
        Probability = probability;
        MinScale = minScale;
        MaxScale = maxScale;
    }

    /// <summary>Chance of degrading a sample.</summary>
    public double Probability { get; }

    /// <summary>Smallest factor.</summary>
    public float MinScale { get; }

    /// <summary>Largest factor.</summary>
    public float MaxScale { get; }

    /// <inheritdoc/>
    public override float Sample(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        bool degrade = random.NextDouble() < Probability;
        float scale = MinScale + ((MaxScale - MinScale) * random.NextSingle());
        return degrade ? scale : 1;
    }

    /// <inheritdoc/>
    public override FaceSample Apply(FaceSample sample, float parameters)
    {
        ArgumentNullException.ThrowIfNull(sample);
        int w = sample.Image.Width, h = sample.Image.Height;
        int smallW = Math.Max(1, (int)MathF.Round(w * parameters)), smallH = Math.Max(1, (int)MathF.Round(h * parameters));
        if (parameters >= 1 || (smallW == w && smallH == h))
        {
            return sample;
        }

        var small = ImageWarp.Warp(sample.Image, smallW, smallH, AffineMatrix.Scaling((float)smallW / w, (float)smallH / h));
        var restored = ImageWarp.Warp(small, w, h, AffineMatrix.Scaling((float)w / smallW, (float)h / smallH));
        return sample with { Image = restored };
    }
}
