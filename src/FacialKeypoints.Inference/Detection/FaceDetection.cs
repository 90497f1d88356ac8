namespace FacialKeypoints.Inference.Detection;

/// <summary>A face found by a detector.</summary>
/// <param name="Box">The detector's face box in image pixels.</param>
/// <param name="Score">Confidence in [0, 1].</param>
/// <param name="Keypoints">
/// The detector's six coarse points as flat image-pixel (x, y) pairs (BlazeFace: the subject's right eye, left
/// eye, nose tip, mouth centre, right ear tragion, left ear tragion); empty for detectors without them.
/// </param>
public sealed record FaceDetection(FaceBox Box, float Score, float[] Keypoints);
