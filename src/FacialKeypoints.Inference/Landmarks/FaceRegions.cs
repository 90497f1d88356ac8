namespace FacialKeypoints.Inference.Landmarks;

/// <summary>
/// Where the landmark network expects the face: the framing of its training images (<see cref="FaceFraming.Training"/>,
/// the one the trainer's .pts crops use), reached from the landmarks of a previous pass or frame, or from a detector's box.
/// </summary>
internal static class FaceRegions
{
    /// <summary>
    /// Median margins of the training images around BlazeFace's box, as fractions of its size, over the training rows
    /// where it finds a face (3460 of 3462 for the front model, 3461 for the back one; Measurements/FramingMeasurements,
    /// FKP_MEASURE=1).
    /// </summary>
    internal static readonly FaceFraming BlazeFaceFront = new(0.635f, 0.641f, 0.842f, 0.718f);

    /// <inheritdoc cref="BlazeFaceFront"/>
    internal static readonly FaceFraming BlazeFaceBack = new(0.628f, 0.626f, 0.819f, 0.711f);

    /// <summary>The training framing around a face's landmarks (flat pixel-centre pairs).</summary>
    public static FaceBox FromLandmarks(ReadOnlySpan<float> landmarks) => FaceFraming.Training.AroundLandmarks(landmarks);

}
