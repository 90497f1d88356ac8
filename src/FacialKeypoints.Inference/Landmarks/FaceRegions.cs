namespace FacialKeypoints.Inference.Landmarks;

/// <summary>
/// Where the landmark network expects the face: the framing of its training images. Both ways in go through
/// fixed ratios measured on the 3462 training rows (docs/dataset.md, "Framing"): from the 68 landmarks of a
/// previous pass or frame, and from a detector's box.
/// </summary>
internal static class FaceRegions
{
    // Median margins of the training images around their 68-point box, as fractions of the box's width and height.
    internal const float LandmarkLeft = 0.67f, LandmarkRight = 0.67f, LandmarkTop = 0.99f, LandmarkBottom = 0.73f;

    // Median margins of the training images around BlazeFace's box (front 128 model), as fractions of its size,
    // over the 3460 of 3462 training rows where it finds a face (Measurements/FramingMeasurements, FKP_MEASURE=1).
    internal const float DetectorLeft = 0.635f, DetectorRight = 0.641f, DetectorTop = 0.842f, DetectorBottom = 0.718f;

    /// <summary>The training framing around a face's landmarks (flat pixel-centre pairs).</summary>
    public static FaceBox FromLandmarks(ReadOnlySpan<float> landmarks)
    {
        var box = FaceBox.Around(landmarks);
        return Widen(box, LandmarkLeft, LandmarkRight, LandmarkTop, LandmarkBottom);
    }

    /// <summary>The training framing around a detector's face box.</summary>
    public static FaceBox FromDetection(FaceBox detection) =>
        Widen(detection, DetectorLeft, DetectorRight, DetectorTop, DetectorBottom);

    private static FaceBox Widen(FaceBox box, float left, float right, float top, float bottom)
    {
        float w = Math.Max(box.Width, 1), h = Math.Max(box.Height, 1);
        return new FaceBox(box.X - (left * w), box.Y - (top * h), w * (1 + left + right), h * (1 + top + bottom));
    }
}
