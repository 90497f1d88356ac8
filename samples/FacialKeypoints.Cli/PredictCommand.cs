using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Inference;
using FacialKeypoints.Inference.Drawing;

namespace FacialKeypoints.Cli;

/// <summary><c>predict</c>'s settings.</summary>
/// <param name="Inputs">Image files and folders.</param>
/// <param name="List">Optional CSV whose first column names the images to take, in order.</param>
/// <param name="Out">CSV output file; standard output when null.</param>
/// <param name="Annotate">Folder for annotated pictures, or null.</param>
/// <param name="Pipeline">The pipeline's options.</param>
/// <param name="Workers">Images processed at once.</param>
internal sealed record PredictSettings(IReadOnlyList<string> Inputs, string? List, string? Out, string? Annotate, FacePipelineOptions Pipeline, int Workers = 1, BadFileChoice OnBadFile = BadFileChoice.Skip);

/// <summary><c>predict</c>: every face in every image through the inference pipeline, one CSV row per face.</summary>
internal static class PredictCommand
{
    /// <summary>The columns after the coordinates: the expression first (the stable contract), then the face's details.</summary>
    public static readonly string[] ExtraColumns =
    [
        "expression", "face", "box_x", "box_y", "box_width", "box_height", "score",
        "p_negative", "p_neutral", "p_positive", "emotion",
        "e_angry", "e_disgust", "e_fear", "e_happy", "e_sad", "e_surprise", "e_neutral",
    ];

    /// <summary>The <c>predict</c> command.</summary>
    public static Command Create()
    {
        var inputs = new Argument<FileSystemInfo[]>("images")
        {
            Description = "Image files and folders (a folder's .jpg .jpeg .png .webp .bmp .gif files, recursively, named by their path in it)",
            Arity = ArgumentArity.OneOrMore,
        }.Existing();
        var list = new Option<FileInfo>("--list") { HelpName = "FILE.csv", Description = "Only the names in this CSV's first column, in its order (a header row is skipped)" }.Existing();
        var output = new Option<FileInfo>("--out", "-o") { Description = "The CSV to write [default: standard output]", HelpName = "FILE.csv" };
        var annotate = new Option<DirectoryInfo>("--annotate") { Description = "Also write each image with its faces drawn, as PNG, into this folder", HelpName = "DIR" };
        var noDetect = FkpCommandLine.Flag("--no-detect", "No detector: each image is one face crop (the same as --detector none)");
        var detector = FkpCommandLine.Choice("--detector", "BlazeFace model: auto takes back above 512 px, front below", DetectorChoice.Auto);
        var precision = FkpCommandLine.Choice("--precision", "The landmark network's number format", PrecisionChoice.Int8);
        var flip = FkpCommandLine.Flip();
        var refine = FkpCommandLine.Flag("--refine", "A second landmark pass framed by the first one's landmarks");
        var noExpression = FkpCommandLine.Flag("--no-expression", "Leave the expression columns empty");
        var model = new Option<FileInfo>("--model") { Description = "A landmark network exported with 'fkp export --onnx' [default: the shipped one]", HelpName = "FILE.onnx" }.Existing();
        var expressionModel = new Option<FileInfo>("--expression-model") { Description = "An expression network (ONNX) [default: the shipped one]", HelpName = "FILE.onnx" }.Existing();
        var threads = FkpCommandLine.Value("--threads", "ONNX Runtime threads per network call", 1).AtLeast(1);
        var workers = FkpCommandLine.Value("--workers", "Images processed at once (each decodes and runs the networks on its own)", Environment.ProcessorCount).AtLeast(1);
        var onBadFile = FkpCommandLine.Choice("--on-bad-file", "An unreadable image: skip names it and goes on (exit 1 at the end), fail stops there (exit 2)", BadFileChoice.Skip);
        var quiet = FkpCommandLine.Quiet();
        var command = new Command("predict", "Find every face in images and write one CSV row per face: name, x0,y0,...,x67,y67 in the image's pixels, expression, then the face's box, score and probabilities. An image with no face is named on standard error; an unreadable one too, and the exit code is 1.")
        {
            inputs, list, output, annotate, noDetect, detector, precision, flip, refine, noExpression, model, expressionModel, threads, workers, onBadFile, quiet,
        };
        command.SetAction(parse =>
        {
            var options = new FacePipelineOptions
            {
                Detector = parse.GetValue(noDetect) ? FaceDetectorKind.None : detector.Get(parse).ToDetector(),
                Precision = precision.Get(parse).ToPrecision(),
                FlipAverage = parse.GetValue(flip),
                Refine = parse.GetValue(refine),
                Expression = !parse.GetValue(noExpression),
                LandmarkModelPath = parse.GetValue(model)?.FullName,
                ExpressionModelPath = parse.GetValue(expressionModel)?.FullName,
                Threads = parse.GetValue(threads),
            };
            var settings = new PredictSettings(
                [.. parse.GetRequiredValue(inputs).Select(i => i.FullName)],
                parse.GetValue(list)?.FullName,
                parse.GetValue(output)?.FullName,
                parse.GetValue(annotate)?.FullName,
                options,
                parse.GetValue(workers),
                onBadFile.Get(parse));
            using var progress = FkpCommandLine.Progress(parse.GetValue(quiet));
            return Run(settings, progress);
        });
        return command;
    }

    public static int Run(PredictSettings settings, IProgressReporter progress)
    {
        var (images, missing) = ImageInputs.Resolve(settings.Inputs, settings.List);
        int failures = 0, faceCount = 0, noFace = 0;
        bool failFast = settings.OnBadFile == BadFileChoice.Fail;
        if (failFast && missing.Count > 0)
        {
            throw new FileNotFoundException($"'{missing[0]}' (from {settings.List}) was not found in the given folders.");
        }

        foreach (string name in missing)
        {
            progress.Note($"fkp: '{name}' (from {settings.List}) was not found in the given folders");
            failures++;
        }

        var clock = Stopwatch.StartNew();
        using var pipeline = new FacePipeline(settings.Pipeline);
        using var output = settings.Out is null
            ? new KeypointCsvWriter(Console.Out, pipeline.Scheme, ExtraColumns, leaveOpen: true)
            : KeypointCsvWriter.Create(settings.Out, pipeline.Scheme, ExtraColumns);
        progress.Start("predict", images.Count);

        // Images go through the shared (thread-safe) pipeline several at once, each worker decoding its own; rows are
        // written in input order, one chunk at a time.
        var lockedProgress = new object();
        foreach (var chunk in images.Chunk(Math.Max(16, 4 * settings.Workers)))
        {
            var results = new (RgbImage? Image, IReadOnlyList<FaceResult> Faces, ImageDecodeException? Error)[chunk.Length];
            Parallel.For(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = settings.Workers }, i =>
            {
                var (image, error) = Decode(chunk[i], progress, quiet: failFast);
                results[i] = (image, image is null ? [] : pipeline.Process(image), error);
                if (image is not null && settings.Annotate is not null)
                {
                    KeypointOverlay.SavePng(FaceOverlay.Draw(image, results[i].Faces, pipeline.Scheme), Path.Combine(settings.Annotate, Path.ChangeExtension(chunk[i].Name, ".png")));
                }

                lock (lockedProgress)
                {
                    progress.Advance();
                }
            });

            for (int i = 0; i < chunk.Length; i++)
            {
                var (image, faces, error) = results[i];
                if (image is null)
                {
                    if (failFast)
                    {
                        // The first unreadable image in input order stops the run (the user-error handler prints it on one line).
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error!);
                    }

                    failures++;
                    continue;
                }

                if (faces.Count == 0)
                {
                    noFace++;
                    progress.Note($"fkp: {chunk[i].Name}: no face found");
                }

                foreach (var face in faces)
                {
                    output.WriteRow(chunk[i].Name, face.Landmarks, Extras(face));
                }

                faceCount += faces.Count;
            }
        }

        output.Flush();
        progress.Finish(string.Create(CultureInfo.InvariantCulture,
            $"{images.Count} image(s), {faceCount} face(s), {noFace} without a face, {failures} failed, {clock.Elapsed.TotalSeconds:0.0} s"));
        if (failures > 0)
        {
            progress.Note($"fkp: {failures} image(s) failed; the others were written");
            return 1;
        }

        return 0;
    }

    internal static string[] Extras(FaceResult face)
    {
        static string F(float v) => v.ToString("0.####", CultureInfo.InvariantCulture);
        var e = face.Expression;
        string[] probabilities = e is null
            ? [.. Enumerable.Repeat(string.Empty, 11)]
            : [.. new[] { ExpressionLabel.Negative, ExpressionLabel.Neutral, ExpressionLabel.Positive }.Select(l => F(e.ProbabilityOf(l))),
               e.Emotion.ToString().ToLowerInvariant(), .. e.EmotionProbabilities.Select(F)];
        return
        [
            e?.Label.ToName() ?? string.Empty,
            face.Index.ToString(CultureInfo.InvariantCulture),
            F(face.Box.X), F(face.Box.Y), F(face.Box.Width), F(face.Box.Height), F(face.Score),
            .. probabilities,
        ];
    }

    private static (RgbImage?, ImageDecodeException?) Decode(ImageInput input, IProgressReporter progress, bool quiet)
    {
        try
        {
            return (ImageDecoder.Decode(input.Path), null);
        }
        catch (ImageDecodeException e)
        {
            if (!quiet)
            {
                progress.Note($"fkp: {input.Name}: {e.Message}");
            }

            return (null, e);
        }
    }
}
