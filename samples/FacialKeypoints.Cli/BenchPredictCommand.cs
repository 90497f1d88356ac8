using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Data;
using FacialKeypoints.Models.Inference;
using TorchSharp;

namespace FacialKeypoints.Cli;

/// <summary>
/// <c>bench-predict</c>: how long the predictor takes per face, one face at a time (the live-video case) and in
/// batches, with and without flip averaging; with <c>--expression MODE</c> also the expression classifier per face.
/// Images are decoded before timing starts; resizing, normalisation, the network and the copy back are timed.
/// </summary>
internal static class BenchPredictCommand
{
    public static int Run(Arguments args)
    {
        string data = args.Option("--data") ?? Arguments.DefaultData;
        string? modelPath = args.Option("--model");
        int count = int.Parse(args.Option("--images") ?? "100", CultureInfo.InvariantCulture);
        int threads = int.Parse(args.Option("--threads") ?? "0", CultureInfo.InvariantCulture);
        string? expression = args.Option("--expression");
        args.RejectUnknown();
        if (count < 1)
        {
            throw new ArgumentException("--images must be at least 1.");
        }

        if (threads > 0)
        {
            torch.set_num_threads(threads);
        }

        var dataset = KeypointDataset.OpenSplit(data, "test");
        var samples = Enumerable.Range(0, Math.Min(count, dataset.Count)).Select(dataset.Load).ToArray();
        var images = samples.Select(s => s.Image).ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{images.Length} test images, {torch.get_num_threads()} torch threads, {Environment.ProcessorCount} logical cores"));
        foreach (bool flip in new[] { false, true })
        {
            using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath, FlipAverage = flip });
            string mode = flip ? "flip-averaged" : "single pass";

            // Warm-up: the first calls allocate and pick kernels.
            for (int i = 0; i < Math.Min(5, images.Length); i++)
            {
                predictor.Predict(images[i]);
            }

            var latencies = new double[images.Length];
            for (int i = 0; i < images.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                predictor.Predict(images[i]);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(latencies);
            var clock = Stopwatch.StartNew();
            predictor.Predict(images);
            double batched = clock.Elapsed.TotalMilliseconds / images.Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{predictor.Metadata.InputWidth} px, {mode}: one at a time median {Percentile(latencies, 0.5):F1} ms, p90 {Percentile(latencies, 0.9):F1} ms, max {latencies[^1]:F1} ms; batches of 16 {batched:F1} ms per face ({1000 / batched:F0} faces/s)"));
        }

        if (expression is not null)
        {
            // The expression classifier alone, on the test rows' own landmarks, one face at a time.
            using var classifier = Expressions.Create(expression);
            var faces = samples.Select(s => new FacePrediction(s.Keypoints, [])).ToArray();
            for (int i = 0; i < Math.Min(5, images.Length); i++)
            {
                classifier.Classify([images[i]], [faces[i]]);
            }

            var latencies = new double[images.Length];
            for (int i = 0; i < images.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                classifier.Classify([images[i]], [faces[i]]);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(latencies);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"expression '{expression}': one at a time median {Percentile(latencies, 0.5):F1} ms, p90 {Percentile(latencies, 0.9):F1} ms, max {latencies[^1]:F1} ms"));
        }

        return 0;
    }

    private static double Percentile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
}
