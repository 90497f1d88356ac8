using System.CommandLine;
using System.Globalization;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;

namespace FacialKeypoints.Cli;

/// <summary>
/// <c>export</c>: rewrites a checkpoint (for example with float16 weights for shipping), or with <c>--onnx</c> writes it
/// as an ONNX model for ONNX Runtime, float32 or (<c>--int8</c>) statically quantised on calibration images. A float32
/// ONNX model of ours is accepted too, for <c>--onnx --int8</c> only (<see cref="OnnxExport.Quantize"/>).
/// </summary>
internal static class ExportCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"];

    /// <summary><c>export</c>'s settings.</summary>
    internal sealed record Settings(string Model, string Out, bool Half, bool Onnx, bool Int8, string? Calibration, int CalibrationCount, double CalibrationPercentile);

    /// <summary>The <c>export</c> command.</summary>
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The checkpoint to export (.safetensors), or a float32 ONNX export to write again with --onnx --int8", HelpName = "FILE", Required = true }.Existing();
        var output = new Option<FileInfo>("--out", "-o") { Description = "The file to write", HelpName = "FILE", Required = true };
        var half = FkpCommandLine.Flag("--fp16", "A checkpoint with float16 weights (half the size)");
        var onnx = FkpCommandLine.Flag("--onnx", "An ONNX model for ONNX Runtime (the format predict runs) instead of a checkpoint");
        var int8 = FkpCommandLine.Flag("--int8", "With --onnx: statically quantised on --calibration images");
        var calibration = new Option<FileSystemInfo>("--calibration") { Description = "Face crops framed like the training images: a folder, or a keypoint CSV", HelpName = "DIR_OR_CSV" }.Existing();
        var count = FkpCommandLine.Value("--calibration-count", "Calibration images, evenly spaced over the folder or CSV", 64).AtLeast(1);
        var percentile = FkpCommandLine.Value("--calibration-percentile", "Activation range: this percentile of the calibration values", 100.0);
        var command = new Command("export", "Rewrite a checkpoint (--fp16), or write it as an ONNX model, float32 or --int8.")
        {
            model, output, half, onnx, int8, calibration, count, percentile,
        };
        command.SetAction(parse => Run(new Settings(
            parse.GetRequiredValue(model).FullName, parse.GetRequiredValue(output).FullName, parse.GetValue(half), parse.GetValue(onnx), parse.GetValue(int8),
            parse.GetValue(calibration)?.FullName, parse.GetValue(count), parse.GetValue(percentile))));
        return command;
    }

    public static int Run(Settings settings)
    {
        var (input, output, half, onnx, int8, calibration, count, percentile) = settings;
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

        if (input.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (!onnx || !int8)
            {
                throw new ArgumentException("An ONNX --model can only be written again as int8: add --onnx --int8 --calibration DIR_OR_CSV.");
            }

            var quantize = new OnnxExportOptions { Precision = OnnxPrecision.Int8, CalibrationPercentile = percentile, CalibrationImages = Calibrate(calibration!, count) };
            OnnxExport.Quantize(input, output, quantize);
            Console.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1e6:F1} MB, ONNX int8, from the float32 {input})");
            return 0;
        }

        var (network, metadata) = KeypointCheckpoint.Load(input);
        using (network)
        {
            if (onnx)
            {
                var options = new OnnxExportOptions { Precision = int8 ? OnnxPrecision.Int8 : OnnxPrecision.Float32, CalibrationPercentile = percentile };
                if (int8)
                {
                    options.CalibrationImages = Calibrate(calibration!, count);
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

    /// <summary>The calibration images, decoded, with a line saying where they come from.</summary>
    private static RgbImage[] Calibrate(string source, int count)
    {
        var files = CalibrationFiles(source, count);
        Console.Error.WriteLine($"calibrating on {files.Count} images from {source}");
        return [.. files.AsParallel().AsOrdered().Select(ImageDecoder.Decode)];
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
