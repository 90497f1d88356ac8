using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Inference;

/// <summary>Which face detector the pipeline runs.</summary>
public enum FaceDetectorKind
{
    /// <summary>
    /// BlazeFace, the model chosen per picture: <see cref="BlazeFaceBack"/> for pictures over 512 px on their longer side
    /// (photos, video frames: faces may be small), <see cref="BlazeFaceFront"/> for smaller ones (face crops, thumbnails).
    /// </summary>
    Auto = 0,

    /// <summary>MediaPipe BlazeFace, front-camera model (128 px input, about 1.5 ms): faces wider than about 13% of the picture's longer side.</summary>
    BlazeFaceFront = 1,

    /// <summary>MediaPipe BlazeFace, back-camera model (256 px input, about 4x the cost): faces down to about 4% of the picture's longer side.</summary>
    BlazeFaceBack = 2,

    /// <summary>No detector: the whole image is one face in the training framing (a face crop, as in the keypoint dataset).</summary>
    None = 3,
}

/// <summary>The numeric precision of the landmark network.</summary>
public enum InferencePrecision
{
    /// <summary>Static int8 quantisation: about twice as fast on CPUs with AVX2 or VNNI, slightly less accurate.</summary>
    Int8 = 0,

    /// <summary>32-bit floating point (the package ships int8 only: export a float32 model with <c>fkp export --onnx</c> and set <see cref="FacePipelineOptions.LandmarkModelPath"/>).</summary>
    Float32 = 1,
}

/// <summary>Options of <see cref="FacePipeline"/>. Validated once, when the pipeline is built.</summary>
public sealed class FacePipelineOptions
{
    /// <summary>The face detector.</summary>
    public FaceDetectorKind Detector { get; set; } = FaceDetectorKind.Auto;

    /// <summary>The landmark network's precision (ignored when <see cref="LandmarkModelPath"/> is set: the file decides).</summary>
    public InferencePrecision Precision { get; set; } = InferencePrecision.Int8;

    /// <summary>
    /// Also run each face mirrored and average the two (on by default: two landmark passes, about 2 ms more per face on
    /// a laptop-class CPU core, test NME 0.0491 instead of 0.0512; set false for the fastest single pass).
    /// </summary>
    public bool FlipAverage { get; set; } = true;

    /// <summary>
    /// Run the landmark network a second time on the framing its first landmarks give (about 2x the landmark cost;
    /// corrects a detector box that sits off the training framing).
    /// </summary>
    public bool Refine { get; set; }

    /// <summary>Classify each face's expression.</summary>
    public bool Expression { get; set; } = true;

    /// <summary>Detections scoring below this are dropped.</summary>
    [Range(0.0, 1.0)]
    public float MinFaceScore { get; set; } = 0.5f;

    /// <summary>The most faces reported per image, best first.</summary>
    [Range(1, 1000)]
    public int MaxFaces { get; set; } = 32;

    /// <summary>Threads each network may use for one call (ONNX Runtime intra-op threads).</summary>
    [Range(1, 256)]
    public int Threads { get; set; } = 2;

    /// <summary>A landmark network exported with <c>fkp export --onnx</c> (your own fine-tuned model); null uses the shipped one.</summary>
    public string? LandmarkModelPath { get; set; }

    /// <summary>An expression network in ONNX; null uses the shipped one.</summary>
    public string? ExpressionModelPath { get; set; }
}
