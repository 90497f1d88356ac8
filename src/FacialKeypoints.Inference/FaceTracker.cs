using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Inference;

/// <summary>
/// Follows the faces of a video. The detector runs on the first frame, every <see cref="RedetectEvery"/> frames,
/// on every frame while no face is known, and on the frame after a face is lost (its landmarks collapse, leave the
/// frame, or merge with another face's); in between, each face is framed by its landmarks in the previous frame,
/// which costs no detector run and follows the face closely.
/// </summary>
/// <remarks>Not thread-safe: it holds the previous frame's faces. Use one per video stream; the pipeline may be shared.</remarks>
public sealed class FaceTracker
{
    /// <summary>Faces whose landmark box is smaller than this many pixels are lost.</summary>
    private const float MinFaceSize = 8f;

    private readonly FacePipeline pipeline;
    private IReadOnlyList<FaceResult> faces = [];
    private long frame;
    private bool lost = true;

    /// <summary>Creates a tracker over a pipeline (which should have a detector).</summary>
    /// <param name="pipeline">The pipeline; not owned.</param>
    /// <param name="redetectEvery">Run the detector at least every this many frames (1 = every frame).</param>
    public FaceTracker(FacePipeline pipeline, int redetectEvery = 10)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        if (redetectEvery < 1)
        {
            throw new ValidationException($"redetectEvery must be at least 1, not {redetectEvery}.");
        }

        this.pipeline = pipeline;
        RedetectEvery = redetectEvery;
    }

    /// <summary>The detector runs at least every this many frames.</summary>
    public int RedetectEvery { get; }

    /// <summary>Whether the last <see cref="Next"/> ran the detector.</summary>
    public bool LastFrameDetected { get; private set; }

    /// <summary>The faces in the next frame of the stream.</summary>
    /// <param name="image">The frame.</param>
    /// <param name="timings">Where to add the time of each stage, or null.</param>
    /// <returns>The faces found or followed.</returns>
    public IReadOnlyList<FaceResult> Next(RgbImage image, PipelineTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        LastFrameDetected = lost || faces.Count == 0 || frame % RedetectEvery == 0;
        faces = LastFrameDetected ? pipeline.Process(image, timings) : pipeline.Track(image, faces, timings);
        lost = faces.Any(f => IsLost(f, image)) || Overlapping(faces);
        if (lost)
        {
            faces = [.. faces.Where(f => !IsLost(f, image))];
        }

        frame++;
        return faces;
    }

    private static bool IsLost(FaceResult face, RgbImage image)
    {
        var box = FaceBox.Around(face.Landmarks);
        float visibleWidth = Math.Min(box.Right, image.Width) - Math.Max(box.X, 0);
        float visibleHeight = Math.Min(box.Bottom, image.Height) - Math.Max(box.Y, 0);
        return box.Width < MinFaceSize || box.Height < MinFaceSize || visibleWidth < box.Width / 2 || visibleHeight < box.Height / 2;
    }

    private static bool Overlapping(IReadOnlyList<FaceResult> faces)
    {
        for (int i = 0; i < faces.Count; i++)
        {
            for (int j = i + 1; j < faces.Count; j++)
            {
                if (FaceBox.Around(faces[i].Landmarks).IntersectionOverUnion(FaceBox.Around(faces[j].Landmarks)) > 0.5f)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
