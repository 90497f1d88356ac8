using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Extending;

// <custom-transform>
/// <summary>The parameters of one <see cref="RandomCutout"/> application: the patch to grey out, if any.</summary>
/// <param name="Apply">Whether this sample gets a patch.</param>
/// <param name="Left">First column of the patch.</param>
/// <param name="Top">First row of the patch.</param>
/// <param name="Width">Patch width in pixels.</param>
/// <param name="Height">Patch height in pixels.</param>
public readonly record struct CutoutParameters(bool Apply, int Left, int Top, int Width, int Height);

/// <summary>
/// Greys out a random rectangle, as a hand or a microphone would hide part of a face. Photometric: the
/// keypoints are left as they are, hidden ones included, so the network learns to place points it cannot see.
/// </summary>
public sealed class RandomCutout : KeypointTransform<CutoutParameters>
{
    /// <summary>Creates the transform.</summary>
    /// <param name="probability">Chance that a sample gets a patch.</param>
    /// <param name="maxSize">Largest patch side, as a fraction of the image side.</param>
    public RandomCutout(double probability = 0.5, float maxSize = 0.4f)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSize, 1);
        Probability = probability;
        MaxSize = maxSize;
    }

    /// <summary>Chance that a sample gets a patch.</summary>
    public double Probability { get; }

    /// <summary>Largest patch side, as a fraction of the image side.</summary>
    public float MaxSize { get; }

    /// <summary>Draws the patch. All randomness lives here.</summary>
    public override CutoutParameters Sample(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(random);
        if (random.NextDouble() >= Probability)
        {
            return default;
        }

        int w = sample.Image.Width, h = sample.Image.Height;
        int width = Math.Max(1, (int)(w * MaxSize * random.NextSingle()));
        int height = Math.Max(1, (int)(h * MaxSize * random.NextSingle()));
        return new CutoutParameters(true, random.Next(w - width + 1), random.Next(h - height + 1), width, height);
    }

    /// <summary>Greys out the patch. Deterministic: the same sample and parameters give the same result.</summary>
    public override FaceSample Apply(FaceSample sample, CutoutParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (!parameters.Apply)
        {
            return sample;
        }

        // Samples are immutable and a CachedFaceDataset shares its images: change a copy, never the input.
        var image = sample.Image.Clone();
        int left = Math.Clamp(parameters.Left, 0, image.Width), right = Math.Clamp(parameters.Left + parameters.Width, 0, image.Width);
        int top = Math.Clamp(parameters.Top, 0, image.Height), bottom = Math.Clamp(parameters.Top + parameters.Height, 0, image.Height);
        for (int y = top; y < bottom; y++)
        {
            image.Pixels.AsSpan(((y * image.Width) + left) * 3, (right - left) * 3).Fill(128);
        }

        return sample with { Image = image };
    }
}
// </custom-transform>
