using System.Globalization;
using System.Text;
using System.Text.Json;
using FacialKeypoints.Data;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Models.Inference;
using FacialKeypoints.Training.Metrics;

namespace FacialKeypoints.Cli;

/// <summary><c>evaluate</c>: scores a model on a split and writes metrics, errors, predictions and a gallery.</summary>
internal static class EvaluateCommand
{
    public static int Run(Arguments args)
    {
        string data = args.Option("--data") ?? Arguments.DefaultData;
        string split = args.Option("--split") ?? "test";
        string? modelPath = args.Option("--model");
        string outDir = args.Option("--out") ?? throw new ArgumentException("evaluate needs --out DIR.");
        bool noFlip = args.Flag("--no-flip");
        int seed = int.Parse(args.Option("--seed") ?? "42", CultureInfo.InvariantCulture);
        double fraction = double.Parse(args.Option("--validation-fraction") ?? "0.1", CultureInfo.InvariantCulture);
        args.RejectUnknown();
        if (split is not ("test" or "training" or "validation"))
        {
            throw new ArgumentException($"--split must be 'test', 'training' or 'validation', not '{split}'.");
        }

        // "validation" is the trainer's held-out part of the training rows: the same random split (seed, fraction).
        var dataset = KeypointDataset.OpenSplit(data, split == "test" ? "test" : "training");
        int[] rows = split == "validation"
            ? [.. DatasetSplits.Random(dataset.Count, fraction, seed).Validation]
            : [.. Enumerable.Range(0, dataset.Count)];
        var records = rows.Select(r => dataset.Records[r]).ToArray();
        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath, FlipAverage = !noFlip });
        var accumulator = new MetricAccumulator(dataset.Scheme);
        var predictions = new float[rows.Length][];
        var images = new RgbImage[rows.Length];
        const int chunk = 32;
        for (int start = 0; start < rows.Length; start += chunk)
        {
            int n = Math.Min(chunk, rows.Length - start);
            Parallel.For(0, n, i => images[start + i] = dataset.Load(rows[start + i]).Image);
            var batch = predictor.Predict([.. images.Skip(start).Take(n)]);
            for (int i = 0; i < n; i++)
            {
                predictions[start + i] = batch[i].Keypoints;
                var record = records[start + i];
                accumulator.Update(record.Name, batch[i].Keypoints, record.Keypoints, images[start + i].Width, images[start + i].Height);
            }

            if (!Console.IsErrorRedirected)
            {
                Console.Error.Write($"\r{start + n}/{rows.Length}");
            }
        }

        Console.Error.WriteLine();
        var s = accumulator.Compute();
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(s.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
        WriteErrors(Path.Combine(outDir, "per-image-errors.csv"), accumulator.Errors);
        WritePredictions(Path.Combine(outDir, "predictions.csv"), dataset.Scheme, records, predictions);
        WriteGallery(Path.Combine(outDir, "gallery.png"), dataset.Scheme, records, images, predictions, accumulator.Errors);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{split} ({s.Images} images): MAE {s.Mae224:F2} px, RMSE {s.Rmse224:F2} px, MPE {s.Mpe224:F2} px (224x224 frame), NME {s.Nme:F4} (original pixels {s.NmeOriginal:F4}), failure rate >0.08 {s.FailureRate008:P1}, >0.10 {s.FailureRate010:P1}"));
        Console.WriteLine($"wrote {outDir}/metrics.json, per-image-errors.csv, predictions.csv, gallery.png");
        return 0;
    }

    private static void WriteErrors(string path, IReadOnlyList<ImageError> errors)
    {
        var text = new StringBuilder("name,nme,nme_orig,mpe224,mae224\n");
        foreach (var e in errors)
        {
            text.Append(CultureInfo.InvariantCulture, $"{e.Name},{e.Nme:G6},{e.NmeOriginal:G6},{e.MeanPointError224:G6},{e.MeanAbsoluteError224:G6}\n");
        }

        File.WriteAllText(path, text.ToString());
    }

    private static void WritePredictions(string path, LandmarkScheme scheme, KeypointRecord[] records, float[][] predictions)
    {
        var text = new StringBuilder("name");
        for (int i = 0; i < scheme.Count; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $",x{i},y{i}");
        }

        text.Append('\n');
        for (int r = 0; r < predictions.Length; r++)
        {
            text.Append(records[r].Name);
            foreach (float v in predictions[r])
            {
                text.Append(',').Append(v.ToString("0.##", CultureInfo.InvariantCulture));
            }

            text.Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    /// <summary>Four best, four median and four worst faces by NME: ground truth green, prediction magenta.</summary>
    private static void WriteGallery(string path, LandmarkScheme scheme, KeypointRecord[] records, RgbImage[] images, float[][] predictions, IReadOnlyList<ImageError> errors)
    {
        var order = Enumerable.Range(0, errors.Count).OrderBy(i => errors[i].Nme).ToArray();
        int mid = order.Length / 2;
        int[] picks = [.. order.Take(4), .. order.Skip(Math.Max(0, mid - 2)).Take(4), .. order.TakeLast(4)];
        string[] groups = ["best", "best", "best", "best", "median", "median", "median", "median", "worst", "worst", "worst", "worst"];
        var tiles = picks.Select((i, n) => new GalleryTile(
            images[i],
            [new KeypointLayer(records[i].Keypoints, OverlayColor.Truth), new KeypointLayer(predictions[i], OverlayColor.Prediction)],
            string.Create(CultureInfo.InvariantCulture, $"{groups[n]}: NME {errors[i].Nme:F3}\n{records[i].Name}"))).ToList();
        KeypointOverlay.SavePng(KeypointOverlay.Gallery(tiles, 4, 240, scheme), path);
    }
}
