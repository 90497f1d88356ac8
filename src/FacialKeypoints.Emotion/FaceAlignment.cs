using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion;

/// <summary>Resamples the eye-aligned, inter-ocular-scaled crop of a face.</summary>
internal static class AlignedCrop
{
    /// <summary>
    /// Cuts <paramref name="spec"/>'s region of the face frame out of the image: rotated by the eye line, scaled by
    /// the inter-ocular distance, resampled by <see cref="FaceCrop"/> (the library's one resampler, mipmapped);
    /// points outside the image are black.
    /// </summary>
    /// <param name="image">The original image.</param>
    /// <param name="landmarks">The face's landmarks in the image's pixels.</param>
    /// <param name="spec">The region and output size.</param>
    /// <param name="scheme">The landmark scheme; iBUG-68 when null.</param>
    /// <returns>A new <c>spec.Size</c> x <c>spec.Size</c> image.</returns>
    public static RgbImage Extract(RgbImage image, ReadOnlySpan<float> landmarks, CropSpec spec, LandmarkScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Extract(image, FaceFrame.FromLandmarks(landmarks, scheme), spec);
    }

    /// <summary>
    /// Cuts <paramref name="spec"/>'s region of a given face frame out of the image. Use it to cut a perturbed frame
    /// (rotated, scaled or shifted, for augmentation) rather than the one the landmarks define.
    /// </summary>
    /// <param name="image">The original image.</param>
    /// <param name="frame">The face frame; its scale must be positive.</param>
    /// <param name="spec">The region and output size.</param>
    /// <returns>A new <c>spec.Size</c> x <c>spec.Size</c> image.</returns>
    /// <exception cref="ArgumentException">The frame's scale is not positive or the crop is invalid.</exception>
    public static RgbImage Extract(RgbImage image, FaceFrame frame, CropSpec spec)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var source = new WarpSource(image);
        return FaceCrop.Extract(source, frame, spec);
    }

    /// <summary>
    /// Square crops <paramref name="crops"/>[start..start + count] of one size as a float tensor <c>[count, 3, S, S]</c>
    /// with values in [0, 1], ready for a <c>NormalizationSpec</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A crop is not square or differs in size from the first.</exception>
    internal static TorchSharp.torch.Tensor ToUnitTensor(IReadOnlyList<RgbImage> crops, int start, int count)
    {
        int size = crops[start].Width;
        int plane = size * size;
        var buffer = new float[count * 3 * plane];
        for (int n = 0; n < count; n++)
        {
            var crop = crops[start + n];
            if (crop.Width != size || crop.Height != size)
            {
                throw new ArgumentException($"Crop {start + n} is {crop.Width}x{crop.Height}, expected {size}x{size}.", nameof(crops));
            }

            var px = crop.Pixels;
            int o = n * 3 * plane;
            for (int i = 0; i < plane; i++)
            {
                buffer[o + i] = px[3 * i] / 255f;
                buffer[o + plane + i] = px[(3 * i) + 1] / 255f;
                buffer[o + (2 * plane) + i] = px[(3 * i) + 2] / 255f;
            }
        }

        return TorchSharp.torch.tensor(buffer, [count, 3, size, size]);
    }
}
