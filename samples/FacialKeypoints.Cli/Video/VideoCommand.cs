using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Inference;
using FacialKeypoints.Inference.Drawing;

namespace FacialKeypoints.Cli.Video;

/// <summary><c>video</c>'s settings.</summary>
internal sealed record VideoSettings(string Input, bool Camera, string Out, string? Csv, int RedetectEvery, int MaxFrames, FacePipelineOptions Pipeline);

/// <summary>
/// <c>video</c>: decode (ffmpeg), detect and track, landmarks and expression, draw, encode (ffmpeg, H.264), with a
/// progress line and the time of each stage at the end.
/// </summary>
internal static class VideoCommand
{
    public static readonly string[] Flags = ["--no-expression", "--flip", "--quiet"];

    public static int Run(Arguments args)
    {
        string? camera = args.Option("--camera");
        var pipeline = new FacePipelineOptions
        {
            Detector = (args.Option("--detector") ?? "front") switch
            {
                "front" => FaceDetectorKind.BlazeFaceFront,
                "back" => FaceDetectorKind.BlazeFaceBack,
                string other => throw new ArgumentException($"--detector must be front or back, not '{other}'."),
            },
            Precision = (args.Option("--precision") ?? "int8") == "float32" ? InferencePrecision.Float32 : InferencePrecision.Int8,
            Expression = !args.Flag("--no-expression"),
            FlipAverage = args.Flag("--flip"),
            LandmarkModelPath = args.Option("--model"),
            Threads = args.Option("--threads") is { } t ? int.Parse(t, CultureInfo.InvariantCulture) : 2,
        };
        string input = camera ?? (args.Positional.Count == 1 ? args.Positional[0] : throw new ArgumentException("video needs one input file (or --camera DEVICE)."));
        var settings = new VideoSettings(
            input,
            camera is not null,
            args.Option("--out") ?? throw new ArgumentException("video needs --out FILE.mp4."),
            args.Option("--csv"),
            args.Option("--redetect") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : 10,
            args.Option("--frames") is { } f ? int.Parse(f, CultureInfo.InvariantCulture) : int.MaxValue,
            pipeline);
        bool quiet = args.Flag("--quiet");
        args.RejectUnknown();
        return Run(settings, new ConsoleProgress(quiet));
    }

    public static int Run(VideoSettings settings, IProgressReporter progress)
    {
        var wall = Stopwatch.StartNew();
        var info = settings.Camera ? new VideoInfo(640, 480, 25, 0) : Ffmpeg.Probe(settings.Input);
        using var pipeline = new FacePipeline(settings.Pipeline);
        var tracker = new FaceTracker(pipeline, settings.RedetectEvery);
        var timings = new PipelineTimings();
        using var reader = new VideoReader(settings.Input, info.Width, info.Height, settings.Camera);
        using var writer = new VideoWriter(settings.Out, info.Width, info.Height, info.FramesPerSecond);
        using var csv = settings.Csv is null ? null : KeypointCsvWriter.Create(settings.Csv, pipeline.Scheme, PredictCommand.ExtraColumns, firstColumn: "frame");
        double startup = wall.Elapsed.TotalMilliseconds;
        long decode = 0, draw = 0, encode = 0;
        int frames = 0, detections = 0;
        progress.Start("video", settings.MaxFrames < int.MaxValue ? Math.Min(settings.MaxFrames, Math.Max(info.FrameCount, 1)) : info.FrameCount);
        while (frames < settings.MaxFrames)
        {
            long start = Stopwatch.GetTimestamp();
            var frame = reader.Next();
            decode += Stopwatch.GetTimestamp() - start;
            if (frame is null)
            {
                break;
            }

            var faces = tracker.Next(frame, timings);
            detections += tracker.LastFrameDetected ? 1 : 0;
            start = Stopwatch.GetTimestamp();
            var drawn = FaceOverlay.Draw(frame, faces, pipeline.Scheme);
            draw += Stopwatch.GetTimestamp() - start;
            start = Stopwatch.GetTimestamp();
            writer.Write(drawn);
            encode += Stopwatch.GetTimestamp() - start;
            foreach (var face in faces)
            {
                csv?.WriteRow(frames.ToString(CultureInfo.InvariantCulture), face.Landmarks, PredictCommand.Extras(face));
            }

            frames++;
            progress.Advance();
        }

        long closing = Stopwatch.GetTimestamp();
        writer.Close();
        encode += Stopwatch.GetTimestamp() - closing;
        csv?.Flush();
        if (frames == 0)
        {
            throw new VideoException($"{settings.Input}: the video has no frames");
        }

        double seconds = wall.Elapsed.TotalSeconds, videoSeconds = frames / info.FramesPerSecond;
        progress.Finish(string.Create(CultureInfo.InvariantCulture,
            $"{frames} frame(s), {timings.Faces} face(s), detector on {detections} frame(s), {seconds:0.0} s for {videoSeconds:0.0} s of video ({frames / seconds:0.0} fps, {videoSeconds / seconds:0.00}x real time)"));
        static string Row(string stage, double totalMs, int frames) =>
            string.Create(CultureInfo.InvariantCulture, $"  {stage,-22}{totalMs / frames,8:0.00} ms/frame{totalMs / 1000,9:0.00} s");
        double Ms(long ticks) => Stopwatch.GetElapsedTime(0, ticks).TotalMilliseconds;
        Console.Error.WriteLine("stage (wall time in this process; ffmpeg decodes and encodes in its own processes)");
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"start-up",-22}{startup,8:0} ms"));
        Console.Error.WriteLine(Row("decode (wait)", Ms(decode), frames));
        Console.Error.WriteLine(Row("detect", timings.Detection.TotalMilliseconds, frames));
        Console.Error.WriteLine(Row("landmarks", timings.Landmarks.TotalMilliseconds, frames));
        Console.Error.WriteLine(Row("expression", timings.Expression.TotalMilliseconds, frames));
        Console.Error.WriteLine(Row("draw", Ms(draw), frames));
        Console.Error.WriteLine(Row("encode (write)", Ms(encode), frames));
        Console.Error.WriteLine(Row("total", seconds * 1000, frames));
        return 0;
    }
}
