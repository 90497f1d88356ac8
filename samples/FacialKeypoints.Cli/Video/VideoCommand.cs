using System.CommandLine;
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
    /// <summary>The <c>video</c> command.</summary>
    public static Command Create()
    {
        var input = new Argument<FileInfo>("input")
        {
            Description = "The video to read (any format ffmpeg reads); leave it out with --camera",
            Arity = ArgumentArity.ZeroOrOne,
        }.Existing();
        var output = new Option<FileInfo>("--out", "-o") { Description = "The video to write (H.264)", HelpName = "FILE.mp4", Required = true };
        var csv = new Option<FileInfo>("--csv") { Description = "Also write frame,x0,y0,...,x67,y67,expression and the predict columns per face per frame", HelpName = "FRAMES.csv" };
        var redetect = FkpCommandLine.Value("--redetect", "Run the detector every N frames (and when a face is lost); follow faces by their landmarks in between", 10).AtLeast(1);
        var detector = FkpCommandLine.Choice("--detector", "BlazeFace model", DetectorChoice.Front, DetectorChoice.Front, DetectorChoice.Back);
        var precision = FkpCommandLine.Choice("--precision", "The landmark network's number format", PrecisionChoice.Int8);
        var noExpression = FkpCommandLine.Flag("--no-expression", "No expression label");
        var flip = FkpCommandLine.Flip();
        var model = new Option<FileInfo>("--model") { Description = "A landmark network exported with 'fkp export --onnx' [default: the shipped one]", HelpName = "FILE.onnx" }.Existing();
        var threads = FkpCommandLine.Value("--threads", "ONNX Runtime threads per network", 2).AtLeast(1);
        var frames = new Option<int?>("--frames") { Description = "Stop after N frames [default: all]" };
        var camera = new Option<string>("--camera") { Description = "Read a V4L2 camera instead of a file", HelpName = "/dev/video0" };
        var quiet = FkpCommandLine.Quiet();
        var command = new Command("video", "Draw the faces, their landmarks and expression on every frame of a video (ffmpeg decodes and encodes: install Debian's ffmpeg package) and print the time of each stage.")
        {
            input, output, csv, redetect, detector, precision, noExpression, flip, model, threads, frames, camera, quiet,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(input) is null) == (result.GetValue(camera) is null))
            {
                result.AddError("video needs one input file or --camera DEVICE.");
            }
        });
        command.SetAction(parse =>
        {
            var pipeline = new FacePipelineOptions
            {
                Detector = detector.Get(parse).ToDetector(),
                Precision = precision.Get(parse).ToPrecision(),
                Expression = !parse.GetValue(noExpression),
                FlipAverage = parse.GetValue(flip),
                LandmarkModelPath = parse.GetValue(model)?.FullName,
                Threads = parse.GetValue(threads),
            };
            string? device = parse.GetValue(camera);
            var settings = new VideoSettings(
                device ?? parse.GetValue(input)!.FullName,
                device is not null,
                parse.GetRequiredValue(output).FullName,
                parse.GetValue(csv)?.FullName,
                parse.GetValue(redetect),
                parse.GetValue(frames) is { } n ? Math.Max(n, 0) : int.MaxValue,
                pipeline);
            using var progress = FkpCommandLine.Progress(parse.GetValue(quiet));
            return Run(settings, progress);
        });
        return command;
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
        progress.Start("video", info.FrameCount > 0 ? Math.Min(settings.MaxFrames, info.FrameCount) : settings.MaxFrames < int.MaxValue ? settings.MaxFrames : 0);
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
        progress.Note("stage (wall time in this process; ffmpeg decodes and encodes in its own processes)");
        progress.Note(string.Create(CultureInfo.InvariantCulture, $"  {"start-up",-22}{startup,8:0} ms"));
        progress.Note(Row("decode (wait)", Ms(decode), frames));
        progress.Note(Row("detect", timings.Detection.TotalMilliseconds, frames));
        progress.Note(Row("landmarks", timings.Landmarks.TotalMilliseconds, frames));
        progress.Note(Row("expression", timings.Expression.TotalMilliseconds, frames));
        progress.Note(Row("draw", Ms(draw), frames));
        progress.Note(Row("encode (write)", Ms(encode), frames));
        progress.Note(Row("total", seconds * 1000, frames));
        return 0;
    }
}
