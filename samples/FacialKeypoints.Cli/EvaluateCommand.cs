using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Inference;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Training.Metrics;

namespace FacialKeypoints.Cli;

/// <summary>
/// <c>evaluate</c>: scores a model on a split of the keypoint-CSV data, or on a folder of images with iBUG .pts files
/// (each face cropped to the training framing around its landmarks), and writes metrics, errors, predictions and a
/// gallery.
/// </summary>
internal static class EvaluateCommand
{
    /// <summary><c>evaluate</c>'s settings.</summary>
    internal sealed record Settings(string Data, string? Split, string? Model, string Out, FacePipelineOptions Pipeline, int Seed, double ValidationFraction, BadFileChoice OnBadFile = BadFileChoice.Fail);

    /// <summary>The <c>evaluate</c> command.</summary>
    public static Command Create()
    {
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "A keypoint-CSV folder (training/, test/, *_frames_keypoints.csv) or a folder of images with iBUG .pts files",
            DefaultValueFactory = _ => new DirectoryInfo(FkpCommandLine.DefaultData),
            HelpName = "DIR",
        }.Existing();
        var split = new Option<string>("--split")
        {
            Description = "test, training, validation (the trainer's held-out rows for --seed and --validation-fraction) or unseen (test rows of the people the identity split holds out); a .pts folder: all or validation [default: test, all for a .pts folder]",
        };
        split.CompletionSources.Add("test", "training", "validation", "unseen", "all");
        var model = new Option<FileInfo>("--model") { Description = "A landmark model: ONNX, or a checkpoint (.safetensors, exported to ONNX first) [default: the shipped one]", HelpName = "FILE" }.Existing();
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Folder for metrics.json, per-image-errors.csv, predictions.csv and gallery.png", HelpName = "DIR", Required = true };
        var noDetect = FkpCommandLine.Flag("--no-detect", "No detector: each image is one face crop");
        var flip = FkpCommandLine.Flip();
        var refine = FkpCommandLine.Flag("--refine", "A second landmark pass framed by the first one's landmarks");
        var precision = FkpCommandLine.Choice("--precision", "The shipped landmark network's number format", PrecisionChoice.Int8);
        var seed = FkpCommandLine.Value("--seed", "The trainer's seed, for --split validation and unseen", 42);
        var fraction = FkpCommandLine.Value("--validation-fraction", "The trainer's validation fraction, for --split validation and unseen", 0.1);
        var onBadFile = FkpCommandLine.Choice("--on-bad-file", "A bad CSV row or unreadable image: fail stops there (exit 2), skip names it, scores the rest and exits 1", BadFileChoice.Fail);
        var quiet = FkpCommandLine.Quiet();
        var command = new Command("evaluate", "Score a landmark model on a labelled split: MAE, RMSE, NME and failure rates, per-image errors, predictions and a gallery of the best, median and worst faces.")
        {
            data, split, model, output, noDetect, flip, refine, precision, seed, fraction, onBadFile, quiet,
        };
        command.SetAction(parse =>
        {
            var pipeline = new FacePipelineOptions
            {
                Detector = parse.GetValue(noDetect) ? FaceDetectorKind.None : FaceDetectorKind.Auto,
                Precision = precision.Get(parse).ToPrecision(),
                FlipAverage = parse.GetValue(flip),
                Refine = parse.GetValue(refine),
                Expression = false,
            };
            var settings = new Settings(parse.GetRequiredValue(data).FullName, parse.GetValue(split), parse.GetValue(model)?.FullName,
                parse.GetRequiredValue(output).FullName, pipeline, parse.GetValue(seed), parse.GetValue(fraction), onBadFile.Get(parse));
            using var progress = FkpCommandLine.Progress(parse.GetValue(quiet));
            return Run(settings, progress);
        });
        return command;
    }

    public static int Run(Settings settings, IProgressReporter progress)
    {
        string data = settings.Data;
        bool pts = PtsDataset.IsPtsFolder(data);
        string split = settings.Split ?? (pts ? "all" : "test");
        string? modelPath = settings.Model;
        string outDir = settings.Out;
        var pipelineOptions = settings.Pipeline;
        int seed = settings.Seed;
        double fraction = settings.ValidationFraction;
        if (pts ? split is not ("all" or "validation") : split is not ("test" or "training" or "validation" or "unseen"))
        {
            throw new ArgumentException(pts
                ? $"'{data}' is a folder of .pts files: --split must be 'all' or 'validation' (the faces the trainer holds out), not '{split}'."
                : $"--split must be 'test', 'training', 'validation' or 'unseen', not '{split}'.");
        }

        // "validation" is the trainer's held-out part of the training rows: the same random split (seed, fraction).
        // "unseen" is the test rows of the people the trainer's identity split (--split-by-identity true) holds out.
        // In a .pts folder every face is its own identity, so "validation" is the trainer's held-out faces with either split.
        // A .pts folder's faces are cropped like the training crops; predictions.csv maps them back to the whole image.
        // Under --on-bad-file skip, bad rows (and rows naming missing images) are left out and named, one line each.
        bool skipBad = settings.OnBadFile == BadFileChoice.Skip;
        var badRows = skipBad ? BadRowPolicy.SkipAndReport : BadRowPolicy.FailFast;
        IFaceDataset dataset = pts
            ? PtsDataset.Open(data, new PtsDatasetOptions { BadRows = badRows })
            : KeypointDataset.OpenSplit(data, split is "test" or "unseen" ? "test" : "training", new KeypointDatasetOptions { BadRows = badRows });
        var problems = dataset switch { PtsDataset p => p.Problems, KeypointDataset k => k.Problems, _ => [] };
        foreach (var problem in problems)
        {
            progress.Note($"fkp: {problem}");
        }

        int unreadable = 0;
        int[] rows = split switch
        {
            "validation" => [.. DatasetSplits.Random(dataset.Count, fraction, seed).Validation],
            "unseen" => UnseenRows(data, dataset, fraction, seed),
            _ => [.. Enumerable.Range(0, dataset.Count)],
        };
        // The inference pipeline, as predict runs it; a TorchSharp checkpoint is exported to ONNX first (float32), and
        // so is the shipped checkpoint for --precision float32 (the inference package carries the int8 network only).
        if (modelPath is null && pipelineOptions.Precision == InferencePrecision.Float32)
        {
            modelPath = FacialKeypoints.Models.Inference.ShippedModel.FindOrThrow();
        }

        using var temporary = new TemporaryOnnx(modelPath);
        pipelineOptions.LandmarkModelPath = temporary.Path;
        using var pipeline = new FacePipeline(pipelineOptions);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        progress.Start("evaluate", rows.Length);
        var names = new string[rows.Length];
        var truths = new float[rows.Length][];
        var accumulator = new MetricAccumulator(dataset.Scheme);
        var predictions = new float[rows.Length][];
        var images = new RgbImage[rows.Length];
        var found = new bool[rows.Length];
        for (int r = 0; r < rows.Length; r++)
        {
            FaceSample sample;
            try
            {
                sample = dataset.Load(rows[r]);
            }
            catch (ImageDecodeException e) when (skipBad)
            {
                progress.Note($"fkp: {e.Message}");
                (names[r], truths[r], predictions[r], images[r]) = (Path.GetFileName(e.FilePath) ?? string.Empty, new float[dataset.Scheme.ValueCount], new float[dataset.Scheme.ValueCount], new RgbImage(1, 1));
                unreadable++;
                progress.Advance();
                continue;
            }

            (images[r], truths[r], names[r]) = (sample.Image, sample.Keypoints, sample.Info.Name);

            // Behind a detector, the face that overlaps the labelled one most is scored; a missed face is counted, not scored.
            var truthBox = FaceBox.Around(truths[r]);
            var face = pipeline.Process(images[r]).MaxBy(f => FaceBox.Around(f.Landmarks).IntersectionOverUnion(truthBox));
            found[r] = face is not null;
            predictions[r] = face?.Landmarks ?? new float[dataset.Scheme.ValueCount];
            if (face is not null)
            {
                accumulator.Update(names[r], face.Landmarks, truths[r], images[r].Width, images[r].Height);
            }

            progress.Advance();
        }

        int missed = found.Count(f => !f) - unreadable;
        progress.Finish(string.Create(CultureInfo.InvariantCulture, $"{rows.Length} image(s), {rows.Length - missed - unreadable} face(s) scored, {missed} without a face found, {unreadable + problems.Count} bad file(s) or row(s) skipped, {clock.Elapsed.TotalSeconds:0.0} s"));
        rows = [.. rows.Where((_, i) => found[i])];
        names = [.. names.Where((_, i) => found[i])];
        truths = [.. truths.Where((_, i) => found[i])];
        images = [.. images.Where((_, i) => found[i])];
        predictions = [.. predictions.Where((_, i) => found[i])];
        var s = accumulator.Compute();
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(s.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
        WriteErrors(Path.Combine(outDir, "per-image-errors.csv"), accumulator.Errors);
        var offsets = rows.Select(r => dataset is PtsDataset faces ? CropOffset(faces, r) : (0f, 0f)).ToArray();
        WritePredictions(Path.Combine(outDir, "predictions.csv"), dataset.Scheme, names, predictions, offsets);
        WriteGallery(Path.Combine(outDir, "gallery.png"), dataset.Scheme, names, truths, images, predictions, accumulator.Errors);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{split} ({s.Images} images): MAE {s.Mae224:F2} px, RMSE {s.Rmse224:F2} px, MPE {s.Mpe224:F2} px (224x224 frame), NME {s.Nme:F4} (original pixels {s.NmeOriginal:F4}), failure rate >0.08 {s.FailureRate008:P1}, >0.10 {s.FailureRate010:P1}"));
        Console.WriteLine($"wrote {outDir}/metrics.json, per-image-errors.csv, predictions.csv, gallery.png");
        return unreadable + problems.Count > 0 ? 1 : 0;
    }

    /// <summary>The landmark model as an ONNX file: the given .onnx, the shipped one (null), or a checkpoint exported to a temporary file.</summary>
    private sealed class TemporaryOnnx : IDisposable
    {
        private readonly string? created;

        public TemporaryOnnx(string? modelPath)
        {
            if (modelPath is null || modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                Path = modelPath;
                return;
            }

            created = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fkp-evaluate-{Guid.NewGuid():N}.onnx");
            var (network, metadata) = KeypointCheckpoint.Load(modelPath);
            using (network)
            {
                OnnxExport.Save(network, metadata, created);
            }

            Path = created;
        }

        public string? Path { get; }

        public void Dispose()
        {
            if (created is not null)
            {
                File.Delete(created);
            }
        }
    }

    /// <summary><c>name,nme,nme_orig,mpe224,mae224</c> through CsvHelper (names quoted when they need it, invariant numbers).</summary>
    private static void WriteErrors(string path, IReadOnlyList<ImageError> errors)
    {
        using var csv = new CsvWriter(new StreamWriter(path, false, new UTF8Encoding(false)), CultureInfo.InvariantCulture);
        foreach (string header in new[] { "name", "nme", "nme_orig", "mpe224", "mae224" })
        {
            csv.WriteField(header);
        }

        csv.NextRecord();
        foreach (var e in errors)
        {
            csv.WriteField(e.Name);
            foreach (double value in new[] { e.Nme, e.NmeOriginal, e.MeanPointError224, e.MeanAbsoluteError224 })
            {
                csv.WriteField(value.ToString("G6", CultureInfo.InvariantCulture));
            }

            csv.NextRecord();
        }
    }

    /// <summary>The test rows of the identities that DatasetSplits.ByIdentity holds out of the training rows.</summary>
    private static int[] UnseenRows(string data, IFaceDataset test, double fraction, int seed)
    {
        var training = DatasetSplits.Identities(KeypointDataset.OpenSplit(data, "training"));
        var heldOut = DatasetSplits.ByIdentity(training, fraction, seed).Validation.Select(i => training[i]).ToHashSet(StringComparer.Ordinal);
        var identities = DatasetSplits.Identities(test);
        return [.. Enumerable.Range(0, test.Count).Where(i => heldOut.Contains(identities[i]))];
    }

    /// <summary>Where a .pts face's crop starts in its whole image (the crop's keypoints plus this are image pixels).</summary>
    private static (float X, float Y) CropOffset(PtsDataset faces, int row)
    {
        var (x, y, _, _) = new LandmarkBoxCrop(FaceFraming.Training).CropFor(faces.Records[row].Keypoints);
        return (x, y);
    }

    /// <summary><c>name,x0,y0,...</c> in whole-image pixels, through <see cref="KeypointCsvWriter"/> (what predict writes, what the reader reads).</summary>
    private static void WritePredictions(string path, LandmarkScheme scheme, string[] names, float[][] predictions, (float X, float Y)[] offsets)
    {
        using var output = KeypointCsvWriter.Create(path, scheme);
        var shifted = new float[scheme.ValueCount];
        for (int r = 0; r < predictions.Length; r++)
        {
            for (int i = 0; i < shifted.Length; i++)
            {
                shifted[i] = predictions[r][i] + (i % 2 == 0 ? offsets[r].X : offsets[r].Y);
            }

            output.WriteRow(names[r], shifted);
        }
    }

    /// <summary>Four best, four median and four worst faces by NME: ground truth green, prediction magenta.</summary>
    private static void WriteGallery(string path, LandmarkScheme scheme, string[] names, float[][] truths, RgbImage[] images, float[][] predictions, IReadOnlyList<ImageError> errors)
    {
        var order = Enumerable.Range(0, errors.Count).OrderBy(i => errors[i].Nme).ToArray();
        int mid = order.Length / 2;
        int[] picks = [.. order.Take(4), .. order.Skip(Math.Max(0, mid - 2)).Take(4), .. order.TakeLast(4)];
        string[] groups = ["best", "best", "best", "best", "median", "median", "median", "median", "worst", "worst", "worst", "worst"];
        var tiles = picks.Select((i, n) => new GalleryTile(
            images[i],
            [new KeypointLayer(truths[i], OverlayColor.Truth), new KeypointLayer(predictions[i], OverlayColor.Prediction)],
            string.Create(CultureInfo.InvariantCulture, $"{groups[n]}: NME {errors[i].Nme:F3}\n{names[i]}"))).ToList();
        KeypointOverlay.SavePng(KeypointOverlay.Gallery(tiles, 4, 240, scheme), path);
    }
}
