namespace FacialKeypoints.Data.Transforms;

/// <summary>Parameters of one <see cref="ColorJitter"/> application: multiplicative factors, 1 = unchanged.</summary>
/// <param name="Brightness">Scales every channel.</param>
/// <param name="Contrast">Scales the distance from the image's mean gray.</param>
/// <param name="Saturation">Scales the distance of each pixel from its own gray.</param>
public readonly record struct JitterParameters(float Brightness, float Contrast, float Saturation);

/// <summary>Random brightness, contrast and saturation changes. Photometric: keypoints are untouched.</summary>
public sealed class ColorJitter : KeypointTransform<JitterParameters>
{
    /// <summary>Creates the transform; each factor is drawn uniformly from [1 - amount, 1 + amount].</summary>
    public ColorJitter(float brightness = 0.3f, float contrast = 0.3f, float saturation = 0.3f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(brightness);
        ArgumentOutOfRangeException.ThrowIfNegative(contrast);
        ArgumentOutOfRangeException.ThrowIfNegative(saturation);
        Brightness = brightness;
        Contrast = contrast;
        Saturation = saturation;
    }

    /// <summary>Brightness amount.</summary>
    public float Brightness { get; }

    /// <summary>Contrast amount.</summary>
    public float Contrast { get; }

    /// <summary>Saturation amount.</summary>
    public float Saturation { get; }

    /// <inheritdoc/>
    public override JitterParameters Sample(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        float Factor(float amount) => 1 - amount + (2 * amount * random.NextSingle());
        return new JitterParameters(Factor(Brightness), Factor(Contrast), Factor(Saturation));
    }

    /// <inheritdoc/>
    public override FaceSample Apply(FaceSample sample, JitterParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var src = sample.Image.Pixels;
        double sum = 0;
        for (int i = 0; i < src.Length; i += 3)
        {
            sum += Gray(src[i], src[i + 1], src[i + 2]);
        }

        float mean = (float)(sum / (src.Length / 3)) * parameters.Brightness;
        var result = new RgbImage(sample.Image.Width, sample.Image.Height);
        var dst = result.Pixels;
        for (int i = 0; i < src.Length; i += 3)
        {
            float r = src[i] * parameters.Brightness, g = src[i + 1] * parameters.Brightness, b = src[i + 2] * parameters.Brightness;
            r = mean + ((r - mean) * parameters.Contrast);
            g = mean + ((g - mean) * parameters.Contrast);
            b = mean + ((b - mean) * parameters.Contrast);
            float gray = Gray(r, g, b);
            dst[i] = Clamp(gray + ((r - gray) * parameters.Saturation));
            dst[i + 1] = Clamp(gray + ((g - gray) * parameters.Saturation));
            dst[i + 2] = Clamp(gray + ((b - gray) * parameters.Saturation));
        }

        return sample with { Image = result };
    }

    private static float Gray(float r, float g, float b) => (0.299f * r) + (0.587f * g) + (0.114f * b);

    private static byte Clamp(float value) => (byte)Math.Clamp(MathF.Round(value), 0, 255);
}
