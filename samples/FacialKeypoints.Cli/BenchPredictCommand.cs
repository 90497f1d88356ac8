using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Data;
using FacialKeypoints.Emotion;
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
    /// <summary>The <c>bench-predict</c> command.</summary>
    public static Command Create()
    {
        var data = DatasetCommands.DataOption();
        var model = new Option<FileInfo>("--model") { Description = "A checkpoint [default: the shipped one]", HelpName = "FILE" }.Existing();
        var images = FkpCommandLine.Value("--images", "Test images to time", 100).AtLeast(1);
        var threads = FkpCommandLine.Value("--threads", "TorchSharp threads (0: libtorch's default)", 0).AtLeast(0);
        var expression = new Option<string>("--expression") { Description = "Also time this TorchSharp expression classifier: combined, network, learned or rule", HelpName = "MODE" };
        expression.AcceptOnlyFromAmong([.. Enum.GetNames<ExpressionClassifierKind>().Select(n => n.ToLowerInvariant())]);
        var device = FkpCommandLine.Choice("--device", "Where TorchSharp runs", DeviceChoice.Cpu);
        var command = new Command("bench-predict", "Time the TorchSharp predictor per face, one at a time and in batches of 16, with and without flip averaging.")
        {
            data, model, images, threads, expression, device,
        };
        command.SetAction(parse => Run(parse.GetRequiredValue(data).FullName, parse.GetValue(model)?.FullName, parse.GetValue(images), parse.GetValue(threads),
            parse.GetValue(expression) is { } mode ? Enum.Parse<ExpressionClassifierKind>(mode, ignoreCase: true) : null, device.Get(parse)));
        return command;
    }

    public static int Run(string data, string? modelPath, int count, int threads, ExpressionClassifierKind? expression, DeviceChoice device = DeviceChoice.Cpu)
    {
        if (count < 1)
        {
            throw new ArgumentException("--images must be at least 1.");
        }

        FkpCommandLine.EnsureTorch();
        string torchDevice = device.ToTorchDevice().type == TorchSharp.DeviceType.CUDA ? "cuda" : "cpu";
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
            using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath, FlipAverage = flip, Device = torchDevice });
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
            using var classifier = Expressions.Create(expression.Value);
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
                $"expression '{expression.Value.ToString().ToLowerInvariant()}': one at a time median {Percentile(latencies, 0.5):F1} ms, p90 {Percentile(latencies, 0.9):F1} ms, max {latencies[^1]:F1} ms"));
        }

        return 0;
    }

    private static double Percentile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];
}
