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
internal sealed record PredictSettings(IReadOnlyList<string> Inputs, string? List, string? Out, string? Annotate, FacePipelineOptions Pipeline);

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

    /// <summary>The options of <c>predict</c> that take no value.</summary>
    public static readonly string[] Flags = ["--no-detect", "--flip", "--refine", "--no-expression", "--quiet"];

    public static int Run(Arguments args)
    {
        var settings = Parse(args, out bool quiet);
        return Run(settings, new ConsoleProgress(quiet));
    }

    public static PredictSettings Parse(Arguments args, out bool quiet)
    {
        var options = new FacePipelineOptions
        {
            Detector = args.Flag("--no-detect") ? FaceDetectorKind.None : ParseDetector(args.Option("--detector") ?? "auto"),
            Precision = (args.Option("--precision") ?? "int8") switch
            {
                "int8" => InferencePrecision.Int8,
                "float32" => InferencePrecision.Float32,
                string other => throw new ArgumentException($"--precision must be int8 or float32, not '{other}'."),
            },
            FlipAverage = args.Flag("--flip"),
            Refine = args.Flag("--refine"),
            Expression = !args.Flag("--no-expression"),
            LandmarkModelPath = args.Option("--model"),
            ExpressionModelPath = args.Option("--expression-model"),
            Threads = args.Option("--threads") is { } threads ? int.Parse(threads, CultureInfo.InvariantCulture) : 2,
        };
        var settings = new PredictSettings(args.Positional, args.Option("--list"), args.Option("--out"), args.Option("--annotate"), options);
        quiet = args.Flag("--quiet");
        args.RejectUnknown();
        return settings.Inputs.Count > 0 ? settings : throw new ArgumentException("predict needs image files or folders.");
    }

    public static int Run(PredictSettings settings, IProgressReporter progress)
    {
        var (images, missing) = ImageInputs.Resolve(settings.Inputs, settings.List);
        int failures = 0, faceCount = 0, noFace = 0;
        foreach (string name in missing)
        {
            Console.Error.WriteLine($"fkp: '{name}' (from {settings.List}) was not found in the given folders");
            failures++;
        }

        var clock = Stopwatch.StartNew();
        using var pipeline = new FacePipeline(settings.Pipeline);
        using var output = settings.Out is null
            ? new KeypointCsvWriter(Console.Out, pipeline.Scheme, ExtraColumns, leaveOpen: true)
            : KeypointCsvWriter.Create(settings.Out, pipeline.Scheme, ExtraColumns);
        progress.Start("predict", images.Count);

        // Decoding of the next image overlaps the networks of the current one.
        Task<(ImageInput Input, RgbImage? Image)>? next = images.Count > 0 ? Task.Run(() => Decode(images[0])) : null;
        for (int n = 0; n < images.Count; n++)
        {
            var (input, image) = next!.Result;
            var following = n + 1 < images.Count ? images[n + 1] : null;
            next = following is null ? null : Task.Run(() => Decode(following));
            if (image is null)
            {
                failures++;
                progress.Advance();
                continue;
            }

            var faces = pipeline.Process(image);
            if (faces.Count == 0)
            {
                noFace++;
                progress.Note($"fkp: {input.Name}: no face found");
            }

            foreach (var face in faces)
            {
                output.WriteRow(input.Name, face.Landmarks, Extras(face));
            }

            faceCount += faces.Count;
            if (settings.Annotate is not null)
            {
                KeypointOverlay.SavePng(FaceOverlay.Draw(image, faces, pipeline.Scheme), Path.Combine(settings.Annotate, Path.ChangeExtension(input.Name, ".png")));
            }

            progress.Advance();
        }

        output.Flush();
        progress.Finish(string.Create(CultureInfo.InvariantCulture,
            $"{images.Count} image(s), {faceCount} face(s), {noFace} without a face, {failures} failed, {clock.Elapsed.TotalSeconds:0.0} s"));
        if (failures > 0)
        {
            Console.Error.WriteLine($"fkp: {failures} image(s) failed; the others were written");
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

    private static FaceDetectorKind ParseDetector(string name) => name switch
    {
        "auto" => FaceDetectorKind.Auto,
        "front" => FaceDetectorKind.BlazeFaceFront,
        "back" => FaceDetectorKind.BlazeFaceBack,
        "none" => FaceDetectorKind.None,
        _ => throw new ArgumentException($"--detector must be auto, front, back or none, not '{name}'."),
    };

    private static (ImageInput, RgbImage?) Decode(ImageInput input)
    {
        try
        {
            return (input, ImageDecoder.Decode(input.Path));
        }
        catch (ImageDecodeException e)
        {
            Console.Error.WriteLine($"fkp: {input.Name}: {e.Message}");
            return (input, null);
        }
    }
}
