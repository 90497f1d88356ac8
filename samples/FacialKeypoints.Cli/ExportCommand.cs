using System.Globalization;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;

namespace FacialKeypoints.Cli;

/// <summary>
/// <c>export</c>: rewrites a checkpoint (for example with float16 weights for shipping), or with <c>--onnx</c> writes it
/// as an ONNX model for ONNX Runtime, float32 or (<c>--int8</c>) statically quantised on calibration images.
/// </summary>
internal static class ExportCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"];

    public static int Run(Arguments args)
    {
        string input = args.Option("--model") ?? throw new ArgumentException("export needs --model FILE.");
        string output = args.Option("--out") ?? throw new ArgumentException("export needs --out FILE.");
        bool half = args.Flag("--fp16");
        bool onnx = args.Flag("--onnx");
        bool int8 = args.Flag("--int8");
        string? calibration = args.Option("--calibration");
        int count = int.Parse(args.Option("--calibration-count") ?? "64", CultureInfo.InvariantCulture);
        double percentile = double.Parse(args.Option("--calibration-percentile") ?? "100", CultureInfo.InvariantCulture);
        args.RejectUnknown();
        if (!onnx && (int8 || calibration is not null))
        {
            throw new ArgumentException("--int8 and --calibration go with --onnx.");
        }

        if (onnx && half)
        {
            throw new ArgumentException("--fp16 rewrites a checkpoint; an ONNX export is float32 or --int8.");
        }

        if (int8 && calibration is null)
        {
            throw new ArgumentException("--int8 needs --calibration DIR_OR_CSV (face crops like the training images).");
        }

        if (count < 1)
        {
            throw new ArgumentException("--calibration-count must be at least 1.");
        }

        var (network, metadata) = KeypointCheckpoint.Load(input);
        using (network)
        {
            if (onnx)
            {
                var options = new OnnxExportOptions { Precision = int8 ? OnnxPrecision.Int8 : OnnxPrecision.Float32, CalibrationPercentile = percentile };
                if (int8)
                {
                    var files = CalibrationFiles(calibration!, count);
                    Console.Error.WriteLine($"calibrating on {files.Count} images from {calibration}");
                    options.CalibrationImages = [.. files.AsParallel().AsOrdered().Select(ImageDecoder.Decode)];
                }

                OnnxExport.Save(network, metadata, output, options);
                Console.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1e6:F1} MB, ONNX {(int8 ? "int8" : "float32")}, {metadata.InputWidth}x{metadata.InputHeight}, input '{OnnxExport.InputName}' [batch, 3, {metadata.InputHeight}, {metadata.InputWidth}], output '{OnnxExport.OutputName}' [batch, {2 * network.KeypointCount}])");
                return 0;
            }

            var written = KeypointCheckpoint.Save(output, network, metadata, half ? CheckpointPrecision.Float16 : CheckpointPrecision.Float32);
            Console.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1e6:F1} MB, {written.Precision}, {written.Layout}, {written.InputWidth}x{written.InputHeight})");
        }

        return 0;
    }

    /// <summary>
    /// <paramref name="count"/> image files evenly spaced over a folder's images (sorted by name) or over a keypoint
    /// CSV's rows (images beside it, or in <c>{split}/</c> for the dataset's <c>{split}_frames_keypoints.csv</c>).
    /// </summary>
    internal static IReadOnlyList<string> CalibrationFiles(string source, int count)
    {
        string[] files;
        if (Directory.Exists(source))
        {
            files = [.. Directory.EnumerateFiles(source)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)];
        }
        else if (File.Exists(source))
        {
            string folder = Path.GetDirectoryName(Path.GetFullPath(source))!;
            string name = Path.GetFileName(source);
            const string Suffix = "_frames_keypoints.csv";
            string images = name.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase) && Directory.Exists(Path.Combine(folder, name[..^Suffix.Length]))
                ? Path.Combine(folder, name[..^Suffix.Length])
                : folder;
            files = [.. File.ReadLines(source).Skip(1)
                .Select(line => line.Split(',')[0].Trim().Trim('"'))
                .Where(n => n.Length > 0)
                .Select(n => Path.Combine(images, n))];
            var missing = files.FirstOrDefault(f => !File.Exists(f));
            if (missing is not null)
            {
                throw new FileNotFoundException($"The calibration CSV names {missing}, which does not exist.", missing);
            }
        }
        else
        {
            throw new FileNotFoundException($"--calibration {source} is neither a folder nor a file.", source);
        }

        if (files.Length == 0)
        {
            throw new ArgumentException($"--calibration {source} holds no images.");
        }

        int n = Math.Min(count, files.Length);
        return [.. Enumerable.Range(0, n).Select(i => files[(int)((long)i * files.Length / n)])];
    }
}
