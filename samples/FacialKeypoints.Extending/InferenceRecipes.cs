using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Inference;
using FacialKeypoints.Inference.Drawing;
using Microsoft.Extensions.DependencyInjection;

namespace FacialKeypoints.Extending;

/// <summary>The inference snippets of docs/getting-started.md (quoted word for word), run by Program.cs on a test photo.</summary>
internal static class InferenceRecipes
{
    /// <summary>Every face of a photo, printed and drawn.</summary>
    public static IReadOnlyList<FaceResult> FacesInPhoto(string photoPath, string annotatedPath)
    {
        // <photo-faces>
        using var pipeline = new FacePipeline();                     // detector, landmarks, expression: models inside the package
        RgbImage photo = ImageDecoder.Decode(photoPath);             // PNG, JPEG, WebP, BMP, GIF; EXIF orientation applied
        IReadOnlyList<FaceResult> faces = pipeline.Process(photo);   // every face, best detection first
        foreach (FaceResult face in faces)
        {
            float[] p = face.Landmarks;                              // x0, y0, ..., x67, y67 in the photo's pixels
            Console.WriteLine($"face {face.Index}: {face.Box}, nose tip ({p[60]:F0}, {p[61]:F0}), {face.Expression?.Label.ToName()} ({face.Expression?.Emotion})");
        }

        KeypointOverlay.SavePng(FaceOverlay.Draw(photo, faces, pipeline.Scheme), annotatedPath);
        // </photo-faces>
        return faces;
    }

    /// <summary>The faces of a stream of frames, followed from frame to frame.</summary>
    public static int FacesInVideo(IEnumerable<RgbImage> frames)
    {
        int found = 0;
        // <video-faces>
        using var pipeline = new FacePipeline();
        var tracker = new FaceTracker(pipeline, redetectEvery: 10);  // the detector every 10th frame; landmarks carry faces in between
        foreach (RgbImage frame in frames)                           // from your camera or video decoder
        {
            IReadOnlyList<FaceResult> faces = tracker.Next(frame);
            RgbImage drawn = FaceOverlay.Draw(frame, faces, pipeline.Scheme);
            found += faces.Count;                                    // show or encode `drawn`
        }
        // </video-faces>
        return found;
    }

    /// <summary>The pipeline from dependency injection: one shared, thread-safe instance.</summary>
    public static FacePipeline FromServices()
    {
        // <inference-di>
        var services = new ServiceCollection()
            .AddFacialKeypointsInference(configure: options =>
            {
                options.Detector = FaceDetectorKind.Auto;             // BlazeFace, back model above 512 px, front below
                options.Threads = 2;                                 // ONNX Runtime threads per call
            })
            .BuildServiceProvider();
        var pipeline = services.GetRequiredService<FacePipeline>();
        // </inference-di>
        return pipeline;
    }
}
