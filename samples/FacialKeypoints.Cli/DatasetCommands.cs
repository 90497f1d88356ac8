using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Cli;

/// <summary><c>summary</c> and <c>bench-loader</c>: look at a dataset and time the loader.</summary>
internal static class DatasetCommands
{
    /// <summary>The <c>summary</c> command.</summary>
    public static Command CreateSummary()
    {
        var data = DataOption();
        var command = new Command("summary", "Load both splits of a keypoint-CSV folder and print counts, image sizes, inter-ocular distances and keypoints outside the image.") { data };
        command.SetAction(parse => Summary(parse.GetRequiredValue(data).FullName));
        return command;
    }

    /// <summary>The <c>bench-loader</c> command.</summary>
    public static Command CreateBenchLoader()
    {
        var data = DataOption();
        var size = FkpCommandLine.Value("--size", "Input side in pixels", 160).AtLeast(8);
        var workers = FkpCommandLine.Value("--workers", "Decoding and augmentation threads", 2).AtLeast(1);
        var command = new Command("bench-loader", "Time the batch loader on the training split, cold and cached.") { data, size, workers };
        command.SetAction(parse => BenchLoader(parse.GetRequiredValue(data).FullName, parse.GetValue(size), parse.GetValue(workers)));
        return command;
    }

    /// <summary><c>--data DIR</c>, a keypoint-CSV folder.</summary>
    internal static Option<DirectoryInfo> DataOption() => new Option<DirectoryInfo>("--data")
    {
        Description = "The keypoint-CSV folder (training/, test/, *_frames_keypoints.csv)",
        DefaultValueFactory = _ => new DirectoryInfo(FkpCommandLine.DefaultData),
        HelpName = "DIR",
    }.Existing();

    public static int Summary(string root)
    {
        foreach (string split in new[] { "training", "test" })
        {
            var clock = Stopwatch.StartNew();
            var dataset = KeypointDataset.OpenSplit(root, split, new KeypointDatasetOptions { BadRows = BadRowPolicy.SkipAndReport });
            var sizes = new (int W, int H)[dataset.Count];
            Parallel.For(0, dataset.Count, i => sizes[i] = ImageDecoder.ReadSize(dataset.ImagePath(i)));
            var identities = DatasetSplits.Identities(dataset);
            var iod = dataset.Records.Select(r => dataset.Scheme.NormalisingDistance(r.Keypoints)).Order().ToArray();
            int outside = dataset.Records.Select((r, i) => Enumerable.Range(0, dataset.Scheme.Count).Count(p =>
                r.Keypoints[2 * p] < 0 || r.Keypoints[(2 * p) + 1] < 0 || r.Keypoints[2 * p] > sizes[i].W - 1 || r.Keypoints[(2 * p) + 1] > sizes[i].H - 1)).Sum();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{split}: {dataset.Count} images, {identities.Distinct().Count()} identities, {dataset.Scheme}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  width {sizes.Min(s => s.W)}-{sizes.Max(s => s.W)} (median {Median(sizes.Select(s => (double)s.W))}), height {sizes.Min(s => s.H)}-{sizes.Max(s => s.H)} (median {Median(sizes.Select(s => (double)s.H))})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  inter-ocular distance {iod[0]:F1}-{iod[^1]:F1} px (median {Median(iod):F1}), keypoints outside the image: {outside}"));
            foreach (var problem in dataset.Problems)
            {
                Console.WriteLine($"  skipped {problem}");
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  read in {clock.Elapsed.TotalSeconds:F1} s"));
        }

        return 0;
    }

    public static int BenchLoader(string root, int size, int workers)
    {
        FkpCommandLine.EnsureTorch();
        var dataset = KeypointDataset.OpenSplit(root, "training");
        var cached = new CachedFaceDataset(dataset, new Rescale(size));
        var augment = new Compose(new RandomAffine(12, 0.9f, 1.1f, 0.05f), new HorizontalFlip(dataset.Scheme), new ColorJitter(0.2f, 0.2f, 0.2f));
        var loader = new FaceBatchLoader(cached, augment, new BatchLoaderOptions { BatchSize = 64, Shuffle = true, Workers = workers });
        foreach (string pass in new[] { "cold (decode + resize + augment)", "cached (augment only)" })
        {
            var clock = Stopwatch.StartNew();
            int images = 0;
            foreach (var batch in loader.Epoch(0))
            {
                images += batch.Count;
                batch.Dispose();
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{pass}: {images} images in {clock.Elapsed.TotalSeconds:F1} s = {images / clock.Elapsed.TotalSeconds:F0} images/s ({size}x{size}, {workers} workers)"));
        }

        return 0;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
