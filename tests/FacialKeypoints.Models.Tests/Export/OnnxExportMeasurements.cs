using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Models.Tests.Import;
using FacialKeypoints.Tests;
using FacialKeypoints.Training.Metrics;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;
using ModelMetadata = FacialKeypoints.Models.Checkpoints.ModelMetadata;

namespace FacialKeypoints.Models.Tests.Export;

/// <summary>
/// The numbers behind docs/benchmarks.md, "ONNX Runtime export and int8": landmark error on the 770 test crops and
/// ONNX Runtime latency of the shipped model exported as float32 and int8. Run:
/// <c>FKP_MEASURE=1 dotnet test tests/FacialKeypoints.Models.Tests -c Release --filter "FullyQualifiedName~OnnxExportMeasurements" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class OnnxExportMeasurements(ITestOutputHelper output) : IDisposable
{
    private const int CalibrationCount = 64;
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [MeasurementFact]
    public void Nme_Float32AndInt8Variants_On770TestCrops()
    {
        var (network, metadata) = KeypointCheckpoint.Load(OnnxTestKit.ShippedModelPath());
        using var _ = network;
        var calibration = CalibrationImages();
        var test = OnnxTestKit.Dataset("test");
        var images = Enumerable.Range(0, test.Count).Select(i => test.Load(i).Image).ToArray();

        Score("libtorch (TorchSharp) eval, single pass", metadata, test, images, input => OnnxTestKit.Torch(network, input, input.Length / (3 * metadata.InputWidth * metadata.InputHeight), metadata.InputHeight, metadata.InputWidth));
        var variants = new (string Name, OnnxExportOptions Options)[]
        {
            ("ONNX float32", new OnnxExportOptions()),
            ("ONNX int8 QOperator, min/max", Int8(calibration, 100, Int8Format.QOperator)),
            ("ONNX int8 QOperator, percentile 99.999", Int8(calibration, 99.999, Int8Format.QOperator)),
            ("ONNX int8 QOperator, percentile 99.99", Int8(calibration, 99.99, Int8Format.QOperator)),
            ("ONNX int8 QOperator, percentile 99.9", Int8(calibration, 99.9, Int8Format.QOperator)),
            ("ONNX int8 QDQ, min/max", Int8(calibration, 100, Int8Format.Qdq)),
        };
        foreach (var (name, options) in variants)
        {
            string path = Path.Combine(folder, "model.onnx");
            var watch = Stopwatch.StartNew();
            OnnxExport.Save(network, metadata, path, options);
            long bytes = new FileInfo(path).Length;
            using var session = OnnxTestKit.Session(path, threads: 2);
            Score($"{name} ({bytes / 1e6:F1} MB, export {watch.Elapsed.TotalSeconds:F1} s)", metadata, test, images,
                input => OnnxTestKit.Run(session, input, input.Length / (3 * metadata.InputWidth * metadata.InputHeight), metadata.InputHeight, metadata.InputWidth));
        }
    }

    [MeasurementFact]
    public void Nme_ShippedOnnxFiles_FromTheirMetadataAlone()
    {
        string models = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(OnnxTestKit.ShippedModelPath()))!, "FacialKeypoints.Inference", "Models");
        var test = OnnxTestKit.Dataset("test");
        var images = Enumerable.Range(0, test.Count).Select(i => test.Load(i).Image).ToArray();
        foreach (string file in new[] { "landmarks.onnx", "landmarks-int8.onnx" })
        {
            using var session = OnnxTestKit.Session(Path.Combine(models, file), threads: 2);
            var map = session.ModelMetadata.CustomMetadataMap;
            static float[] Floats(string text) => [.. text.Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
            int size = int.Parse(map["fkp.input_width"], CultureInfo.InvariantCulture);
            var metadata = new ModelMetadata
            {
                InputWidth = size,
                InputHeight = int.Parse(map["fkp.input_height"], CultureInfo.InvariantCulture),
                KeypointCount = int.Parse(map["fkp.keypoint_count"], CultureInfo.InvariantCulture),
                Normalization = new NormalizationSpec(Floats(map["fkp.normalization.mean"]), Floats(map["fkp.normalization.std"])),
            };
            Score($"{file} ({map["fkp.precision"]}, {new FileInfo(Path.Combine(models, file)).Length / 1e6:F1} MB)", metadata, test, images,
                input => OnnxTestKit.Run(session, input, input.Length / (3 * size * size), size, size));
        }
    }

    /// <summary>
    /// Median latency of one run, batch 1 and batch 16, for each size, precision and thread count, libtorch eager beside
    /// ONNX Runtime. The machine is shared: every configuration is measured in several interleaved rounds and the
    /// fastest round's median is kept.
    /// </summary>
    [MeasurementFact]
    public void Latency_Float32AndInt8_At160And128()
    {
        const int Rounds = 6;
        var (network, shipped) = KeypointCheckpoint.Load(OnnxTestKit.ShippedModelPath());
        using var _ = network;
        var calibration = CalibrationImages();
        var configurations = new List<(string Name, int Size, int Threads, Func<float[], int, float[]> Run, IDisposable? Owner)>();
        foreach (int size in new[] { 160, 128 })
        {
            var metadata = shipped with { InputWidth = size, InputHeight = size };
            foreach (int threads in new[] { 1, 2 })
            {
                int t = threads, s = size;
                configurations.Add(("libtorch eager float32", size, threads, (input, batch) =>
                {
                    set_num_threads(t);
                    return OnnxTestKit.Torch(network, input, batch, s, s);
                }, null));
            }

            foreach (var (precision, options) in new[]
            {
                ("ONNX Runtime float32", new OnnxExportOptions()),
                ("ONNX Runtime int8 QOperator", Int8(calibration, 100, Int8Format.QOperator)),
                ("ONNX Runtime int8 QDQ", Int8(calibration, 100, Int8Format.Qdq)),
            })
            {
                string path = Path.Combine(folder, $"model-{size}-{configurations.Count}.onnx");
                OnnxExport.Save(network, metadata, path, options);
                foreach (int threads in new[] { 1, 2 })
                {
                    var session = OnnxTestKit.Session(path, threads);
                    int s = size;
                    configurations.Add((precision, size, threads, (input, batch) => OnnxTestKit.Run(session, input, batch, s, s), session));
                }

                if (precision.Contains("QOperator", StringComparison.Ordinal) || precision.Contains("float32", StringComparison.Ordinal))
                {
                    var quiet = OnnxTestKit.Session(path, threads: 2, spinning: false);
                    int s = size;
                    configurations.Add((precision + ", no spinning", size, 2, (input, batch) => OnnxTestKit.Run(quiet, input, batch, s, s), quiet));
                }
            }
        }

        var best = new double[configurations.Count, 2];
        for (int i = 0; i < configurations.Count; i++)
        {
            best[i, 0] = best[i, 1] = double.MaxValue;
        }

        for (int round = 0; round < Rounds; round++)
        {
            for (int i = 0; i < configurations.Count; i++)
            {
                var c = configurations[i];
                best[i, 0] = Math.Min(best[i, 0], Median(c.Run, 1, c.Size, runs: 15));
                best[i, 1] = Math.Min(best[i, 1], Median(c.Run, 16, c.Size, runs: 3));
            }
        }

        set_num_threads(Environment.ProcessorCount);
        output.WriteLine($"ONNX Runtime {OrtEnv.Instance().GetVersionString()}, {Environment.ProcessorCount} cores, load average before: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine("| size | runtime, precision | threads | batch 1, ms | batch 16, ms (per face) |");
        output.WriteLine("| --- | --- | --- | --- | --- |");
        for (int i = 0; i < configurations.Count; i++)
        {
            var c = configurations[i];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Size} | {c.Name} | {c.Threads} | {best[i, 0]:F1} | {best[i, 1]:F0} ({best[i, 1] / 16:F1}) |"));
            c.Owner?.Dispose();
        }
    }

    /// <summary>64 training images evenly spaced over the training CSV, as <c>fkp export --calibration</c> picks them.</summary>
    private static RgbImage[] CalibrationImages()
    {
        var training = OnnxTestKit.Dataset("training");
        return OnnxTestKit.Faces("training", Enumerable.Range(0, CalibrationCount).Select(i => (int)((long)i * training.Count / CalibrationCount)));
    }

    private static OnnxExportOptions Int8(RgbImage[] calibration, double percentile, Int8Format format) => new()
    {
        Precision = OnnxPrecision.Int8,
        CalibrationImages = calibration,
        CalibrationPercentile = percentile,
        QuantizationFormat = format,
    };

    /// <summary>
    /// Single-pass NME as <c>fkp evaluate --no-flip</c> computes it: each crop stretched to the input, normalised with
    /// the metadata, the output mapped back to the crop's pixels with <see cref="KeypointNormalization"/>.
    /// </summary>
    private void Score(string name, ModelMetadata metadata, FacialKeypoints.Data.KeypointDataset test, RgbImage[] images, Func<float[], float[]> run)
    {
        int size = metadata.InputWidth, values = 2 * metadata.KeypointCount;
        var accumulator = new MetricAccumulator(test.Scheme);
        var watch = Stopwatch.StartNew();
        foreach (var chunk in Enumerable.Range(0, images.Length).Chunk(32))
        {
            var predictions = run(OnnxTestKit.Prepare([.. chunk.Select(i => images[i])], metadata));
            for (int k = 0; k < chunk.Length; k++)
            {
                var image = images[chunk[k]];
                var frame = KeypointNormalization.Denormalize(predictions.AsSpan(k * values, values), size, size);
                var pixels = KeypointNormalization.FromSquareFrame(frame, size, image.Width, image.Height);
                accumulator.Update(test.Records[chunk[k]].Name, pixels, test.Records[chunk[k]].Keypoints, image.Width, image.Height);
            }
        }

        var s = accumulator.Compute();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: NME {s.Nme:F4} (original pixels {s.NmeOriginal:F4}), MAE {s.Mae224:F2} px, failure >0.08 {s.FailureRate008:P1}, >0.10 {s.FailureRate010:P1}; {s.Images} images in {watch.Elapsed.TotalSeconds:F1} s"));
    }

    private static double Median(Func<float[], int, float[]> run, int batch, int size, int runs)
    {
        var input = new float[batch * 3 * size * size];
        var random = new Random(1);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)((random.NextDouble() * 4) - 2);
        }

        for (int i = 0; i < 2; i++)
        {
            run(input, batch);
        }

        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run(input, batch);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[runs / 2];
    }
}
