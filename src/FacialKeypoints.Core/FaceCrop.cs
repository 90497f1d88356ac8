namespace FacialKeypoints.Core;

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
    /// <param name="scheme">The landmark scheme; iBUG-68 when null. Its normalisation pair (the outer eye corners) fixes the frame.</param>
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

/// <summary>
/// The geometry of the aligned face crop, as a pure function: from a face's landmarks (or its <see cref="FaceFrame"/>)
/// and a <see cref="CropSpec"/> to the source-to-crop <see cref="AffineMatrix"/> that <see cref="WarpSource.Warp"/>
/// takes. The crop's pixel (i, j) samples the face-frame point
/// (<c>CenterU - Extent/2 + (i + 0.5) * Extent/Size</c>, <c>CenterV - Extent/2 + (j + 0.5) * Extent/Size</c>).
/// </summary>
public static class FaceCrop
{
    /// <summary>The source-to-crop map of <paramref name="spec"/>'s region of a face frame.</summary>
    /// <param name="frame">The face frame; its scale must be positive.</param>
    /// <param name="spec">The region and output size.</param>
    /// <returns>The map from source pixel-edge coordinates to crop pixel-edge coordinates.</returns>
    /// <exception cref="ArgumentException">The frame's scale is not positive or the crop is invalid.</exception>
    public static AffineMatrix SourceToCrop(FaceFrame frame, CropSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (!(frame.Scale > 0) || !float.IsFinite(frame.Scale))
        {
            throw new ArgumentException($"The face frame's scale {frame.Scale} is not positive.", nameof(frame));
        }

        // Crop to source: x = OriginX + 0.5 + Scale * (u * ax - v * ay), u = u0 + xCrop * step (edge coordinates on
        // both sides, so the half pixels cancel in the crop and appear once for the source's pixel centres).
        float step = spec.Extent / spec.Size, k = frame.Scale * step;
        float u0 = spec.CenterU - (spec.Extent / 2), v0 = spec.CenterV - (spec.Extent / 2);
        float ax = frame.AxisX, ay = frame.AxisY;
        float c = frame.OriginX + 0.5f + (frame.Scale * ((u0 * ax) - (v0 * ay)));
        float f = frame.OriginY + 0.5f + (frame.Scale * ((u0 * ay) + (v0 * ax)));

        // Its inverse: a rotation and a scale, so the transpose over k squared.
        return new AffineMatrix(ax / k, ay / k, -((ax * c) + (ay * f)) / k, -ay / k, ax / k, ((ay * c) - (ax * f)) / k);
    }

    /// <summary>The source-to-crop map of <paramref name="spec"/>'s region of the face the landmarks describe.</summary>
    /// <param name="landmarks">Flat (x0, y0, ...) landmarks in the source image's pixels (pixel centres at whole numbers).</param>
    /// <param name="scheme">The landmark scheme; its normalisation pair fixes the face frame.</param>
    /// <param name="spec">The region and output size.</param>
    /// <returns>The map from source pixel-edge coordinates to crop pixel-edge coordinates.</returns>
    /// <exception cref="ArgumentException">The landmarks do not fit the scheme, the eye corners coincide, or the crop is invalid.</exception>
    public static AffineMatrix SourceToCrop(ReadOnlySpan<float> landmarks, LandmarkScheme scheme, CropSpec spec)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        return SourceToCrop(FaceFrame.FromLandmarks(landmarks, scheme), spec);
    }

    /// <summary>
    /// Resamples the crop of a prepared image through the library's one resampler; areas outside the image are black.
    /// </summary>
    /// <param name="source">The prepared image (one per frame, shared by its faces).</param>
    /// <param name="frame">The face frame.</param>
    /// <param name="spec">The region and output size.</param>
    /// <returns>A new <c>spec.Size</c> x <c>spec.Size</c> image.</returns>
    public static RgbImage Extract(WarpSource source, FaceFrame frame, CropSpec spec)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(spec);
        return source.Warp(spec.Size, spec.Size, SourceToCrop(frame, spec));
    }
}
