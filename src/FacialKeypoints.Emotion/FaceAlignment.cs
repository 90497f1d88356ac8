using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion;

/// <summary>
/// A face's own coordinate frame, fixed by the outer eye corners: the origin halfway between them, the x axis
/// along the eye line (towards the image-right eye), the y axis perpendicular and pointing down the face, and
/// the inter-ocular distance as unit length. Coordinates in this frame do not change when the image is scaled,
/// shifted or rotated in plane.
/// </summary>
/// <param name="OriginX">Image x of the origin (pixel centres at whole numbers).</param>
/// <param name="OriginY">Image y of the origin.</param>
/// <param name="AxisX">x component of the unit eye-line direction, in the image.</param>
/// <param name="AxisY">y component of the unit eye-line direction, in the image.</param>
/// <param name="Scale">The inter-ocular distance in image pixels.</param>
public readonly record struct FaceFrame(float OriginX, float OriginY, float AxisX, float AxisY, float Scale)
{
    /// <summary>The frame of a face from its landmarks, using the scheme's normalisation pair.</summary>
    /// <param name="landmarks">Flat (x0, y0, ...) image landmarks.</param>
    /// <param name="scheme">The landmark scheme; iBUG-68 when null.</param>
    /// <returns>The frame.</returns>
    /// <exception cref="ArgumentException">Too few values, or the two reference points coincide or are not finite.</exception>
    public static FaceFrame FromLandmarks(ReadOnlySpan<float> landmarks, LandmarkScheme? scheme = null)
    {
        scheme ??= LandmarkScheme.Ibug68;
        if (landmarks.Length != scheme.ValueCount)
        {
            throw new ArgumentException($"Expected {scheme.ValueCount} landmark values for {scheme}, got {landmarks.Length}.", nameof(landmarks));
        }

        var (a, b) = scheme.NormalisationPair;
        float ax = landmarks[2 * a], ay = landmarks[(2 * a) + 1], bx = landmarks[2 * b], by = landmarks[(2 * b) + 1];
        float dx = bx - ax, dy = by - ay;
        float scale = MathF.Sqrt((dx * dx) + (dy * dy));
        if (!(scale > 1e-3f) || !float.IsFinite(scale))
        {
            throw new ArgumentException($"The reference points {a} and {b} coincide or are not finite; the face cannot be aligned.", nameof(landmarks));
        }

        return new FaceFrame((ax + bx) / 2, (ay + by) / 2, dx / scale, dy / scale, scale);
    }

    /// <summary>Maps an image point into the face frame.</summary>
    /// <param name="x">Image x.</param>
    /// <param name="y">Image y.</param>
    /// <returns>Face-frame coordinates, in inter-ocular distances.</returns>
    public (float U, float V) ToFace(float x, float y)
    {
        float px = x - OriginX, py = y - OriginY;
        return (((px * AxisX) + (py * AxisY)) / Scale, ((-px * AxisY) + (py * AxisX)) / Scale);
    }

    /// <summary>Maps a face-frame point into the image.</summary>
    /// <param name="u">Face-frame x, in inter-ocular distances.</param>
    /// <param name="v">Face-frame y (down the face).</param>
    /// <returns>Image coordinates.</returns>
    public (float X, float Y) ToImage(float u, float v) =>
        (OriginX + (Scale * ((u * AxisX) - (v * AxisY))), OriginY + (Scale * ((u * AxisY) + (v * AxisX))));

    /// <summary>
    /// The frame moved within itself: rotated by <paramref name="degrees"/> about the origin, scaled by
    /// <paramref name="scale"/> and shifted by (<paramref name="shiftU"/>, <paramref name="shiftV"/>) inter-ocular
    /// distances. A crop of the perturbed frame is the crop of a slightly rotated, zoomed or moved face.
    /// </summary>
    /// <param name="degrees">In-plane rotation, degrees.</param>
    /// <param name="scale">Scale factor; above 1 the crop covers more of the image (the face looks smaller).</param>
    /// <param name="shiftU">Shift of the origin along the eye line, in inter-ocular distances.</param>
    /// <param name="shiftV">Shift of the origin down the face, in inter-ocular distances.</param>
    /// <returns>The perturbed frame.</returns>
    public FaceFrame Perturbed(float degrees, float scale, float shiftU, float shiftV)
    {
        var (x, y) = ToImage(shiftU, shiftV);
        float angle = degrees * MathF.PI / 180f;
        float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
        return new FaceFrame(x, y, (AxisX * cos) - (AxisY * sin), (AxisX * sin) + (AxisY * cos), Scale * scale);
    }
}

/// <summary>A square region of the face frame and the pixel size it is resampled to.</summary>
/// <param name="CenterU">Face-frame x of the region's centre (0 = between the eyes).</param>
/// <param name="CenterV">Face-frame y of the region's centre (positive = below the eyes).</param>
/// <param name="Extent">The side of the square, in inter-ocular distances.</param>
/// <param name="Size">The output side in pixels; a multiple of 32 for the ResNet backbone.</param>
public sealed record CropSpec(float CenterU, float CenterV, float Extent, int Size)
{
    /// <summary>The whole face from brows to chin, 2.2 inter-ocular distances wide, at 224 px: the shipped model's crop.</summary>
    public static CropSpec Face224 { get; } = new(0f, 0.45f, 2.2f, 224);

    /// <summary>The lower face: mouth, cheeks and chin, 1.6 inter-ocular distances wide, 128 px.</summary>
    public static CropSpec LowerFace { get; } = new(0f, 0.85f, 1.6f, 128);

    /// <summary>The whole face from brows to chin, 2.2 inter-ocular distances wide, 128 px.</summary>
    public static CropSpec WholeFace { get; } = new(0f, 0.45f, 2.2f, 128);

    /// <summary>Throws if the values cannot describe a crop.</summary>
    /// <exception cref="ArgumentException">Extent is not positive or Size is below 8.</exception>
    public void Validate()
    {
        if (!(Extent > 0) || !float.IsFinite(CenterU) || !float.IsFinite(CenterV) || Size < 8 || Size > 1024)
        {
            throw new ArgumentException($"Invalid crop {this}: the extent must be positive and the size in 8..1024.");
        }
    }
}

/// <summary>Resamples the eye-aligned, inter-ocular-scaled crop of a face.</summary>
public static class AlignedCrop
{
    /// <summary>
    /// Cuts <paramref name="spec"/>'s region of the face frame out of the image: rotated by the eye line, scaled by
    /// the inter-ocular distance. Bilinear sampling, averaged over up to 4x4 sub-samples per pixel when the face is
    /// larger than the crop; points outside the image take the nearest edge pixel.
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
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (!(frame.Scale > 0) || !float.IsFinite(frame.Scale))
        {
            throw new ArgumentException($"The face frame's scale {frame.Scale} is not positive.", nameof(frame));
        }

        int size = spec.Size;
        float step = spec.Extent / size;
        int sub = Math.Clamp((int)MathF.Ceiling(frame.Scale * step), 1, 4);
        var output = new RgbImage(size, size);
        var dst = output.Pixels;
        Span<float> sum = stackalloc float[3];
        float u0 = spec.CenterU - (spec.Extent / 2), v0 = spec.CenterV - (spec.Extent / 2);
        for (int j = 0; j < size; j++)
        {
            for (int i = 0; i < size; i++)
            {
                sum.Clear();
                for (int sj = 0; sj < sub; sj++)
                {
                    float v = v0 + ((j + ((sj + 0.5f) / sub)) * step);
                    for (int si = 0; si < sub; si++)
                    {
                        float u = u0 + ((i + ((si + 0.5f) / sub)) * step);
                        var (x, y) = frame.ToImage(u, v);
                        Bilinear(image, x, y, sum);
                    }
                }

                int d = ((j * size) + i) * 3;
                float n = sub * sub;
                dst[d] = (byte)Math.Clamp(MathF.Round(sum[0] / n), 0, 255);
                dst[d + 1] = (byte)Math.Clamp(MathF.Round(sum[1] / n), 0, 255);
                dst[d + 2] = (byte)Math.Clamp(MathF.Round(sum[2] / n), 0, 255);
            }
        }

        return output;
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

    private static void Bilinear(RgbImage image, float x, float y, Span<float> accumulate)
    {
        int w = image.Width, h = image.Height;
        x = Math.Clamp(x, 0, w - 1);
        y = Math.Clamp(y, 0, h - 1);
        int x0 = (int)MathF.Floor(x), y0 = (int)MathF.Floor(y);
        int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
        float fx = x - x0, fy = y - y0;
        var p = image.Pixels;
        int a = ((y0 * w) + x0) * 3, b = ((y0 * w) + x1) * 3, c = ((y1 * w) + x0) * 3, d = ((y1 * w) + x1) * 3;
        for (int k = 0; k < 3; k++)
        {
            float top = p[a + k] + ((p[b + k] - p[a + k]) * fx);
            float bottom = p[c + k] + ((p[d + k] - p[c + k]) * fx);
            accumulate[k] += top + ((bottom - top) * fy);
        }
    }
}
