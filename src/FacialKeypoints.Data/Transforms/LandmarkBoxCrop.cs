namespace FacialKeypoints.Data.Transforms;

/// <summary>
/// Crops an image to a <see cref="FaceFraming"/> around its landmark box, so faces from photos of any size are
/// framed like the training crops. The crop is whole pixels (a copy, no resampling); parts past the image border
/// are black. Deterministic. The sample's <see cref="SampleInfo.OriginalWidth"/> and
/// <see cref="SampleInfo.OriginalHeight"/> become the crop's size, since the crop is what the network and the
/// metrics see.
/// </summary>
public sealed class LandmarkBoxCrop : IKeypointTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="framing">The margins; each must be finite and not negative.</param>
    public LandmarkBoxCrop(FaceFraming framing)
    {
        float[] margins = [framing.Left, framing.Right, framing.Top, framing.Bottom];
        if (margins.Any(m => !float.IsFinite(m) || m < 0))
        {
            throw new ArgumentOutOfRangeException(nameof(framing), framing, "Margins must be finite and not negative.");
        }

        Framing = framing;
    }

    /// <summary>The margins.</summary>
    public FaceFraming Framing { get; }

    /// <inheritdoc/>
    public bool IsRandom => false;

    /// <summary>
    /// The crop in whole pixels of the image: the top-left pixel's column and row (negative past the border) and
    /// the size. Depends on the keypoints only.
    /// </summary>
    /// <param name="keypoints">Flat pixel-centre keypoints.</param>
    /// <returns>The crop rectangle.</returns>
    public (int X, int Y, int Width, int Height) CropFor(ReadOnlySpan<float> keypoints)
    {
        // The framing rectangle (pixel-edge coordinates), its edges rounded to whole pixels.
        var frame = Framing.AroundLandmarks(keypoints);
        int left = (int)MathF.Round(frame.X), top = (int)MathF.Round(frame.Y);
        int right = (int)MathF.Round(frame.Right), bottom = (int)MathF.Round(frame.Bottom);
        return (left, top, Math.Max(1, right - left), Math.Max(1, bottom - top));
    }

    /// <inheritdoc/>
    public FaceSample Apply(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var (x0, y0, width, height) = CropFor(sample.Keypoints);
        var keypoints = new float[sample.Keypoints.Length];
        for (int i = 0; i + 1 < keypoints.Length; i += 2)
        {
            keypoints[i] = sample.Keypoints[i] - x0;
            keypoints[i + 1] = sample.Keypoints[i + 1] - y0;
        }

        return sample with
        {
            Image = Crop(sample.Image, x0, y0, width, height),
            Keypoints = keypoints,
            Info = sample.Info with { OriginalWidth = width, OriginalHeight = height },
        };
    }

    /// <summary>Copies a whole-pixel rectangle; pixels outside the source are black.</summary>
    internal static RgbImage Crop(RgbImage source, int x0, int y0, int width, int height)
    {
        var result = new RgbImage(width, height);
        int fromX = Math.Max(0, x0), toX = Math.Min(source.Width, x0 + width);
        if (toX <= fromX)
        {
            return result;
        }

        int bytes = (toX - fromX) * 3;
        for (int y = Math.Max(0, y0); y < Math.Min(source.Height, y0 + height); y++)
        {
            Array.Copy(source.Pixels, ((y * source.Width) + fromX) * 3, result.Pixels, (((y - y0) * width) + (fromX - x0)) * 3, bytes);
        }

        return result;
    }
}
