using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Models.Import;
using FacialKeypoints.Tests;
using FluentAssertions;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;
using ModelMetadata = FacialKeypoints.Models.Checkpoints.ModelMetadata;

namespace FacialKeypoints.Models.Tests.Export;

/// <summary>
/// Static int8 export. Tolerance against the float32 export on test faces: relative L2 below 0.03 (measured about
/// 0.01); the landmark error it costs is measured in <see cref="OnnxExportMeasurements"/>.
/// </summary>
public sealed class Int8ExportTests(ITestOutputHelper output) : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData("QOperator")]
    [InlineData("Qdq")]
    public void Save_Int8ShippedModel_RunsWithInt8KernelsCloseToFloat(string formatName)
    {
        var format = Enum.Parse<Int8Format>(formatName);
        var (network, metadata) = KeypointCheckpoint.Load(OnnxTestKit.ShippedModelPath());
        using var _ = network;
        int size = metadata.InputWidth;
        string fp32 = Path.Combine(folder, "fp32.onnx"), int8 = Path.Combine(folder, "int8.onnx");
        OnnxExport.Save(network, metadata, fp32);
        OnnxExport.Save(network, metadata, int8, new OnnxExportOptions
        {
            Precision = OnnxPrecision.Int8,
            CalibrationImages = OnnxTestKit.Faces("training", Enumerable.Range(0, 16).Select(i => i * 200)),
            QuantizationFormat = format,
        });

        var faces = OnnxTestKit.Prepare(OnnxTestKit.Faces("test", [0, 100, 200, 300, 400, 500]), metadata);
        var expected = OnnxTestKit.Run(fp32, faces, 6, size, size);
        string optimized = Path.Combine(folder, "optimized.onnx");
        float[] actual;
        using (var options = new SessionOptions { IntraOpNumThreads = 2, OptimizedModelFilePath = optimized })
        using (var session = new InferenceSession(int8, options))
        {
            session.ModelMetadata.CustomMetadataMap["fkp.precision"].Should().Be("int8");
            actual = OnnxTestKit.Run(session, faces, 6, size, size);
        }

        double error = OnnxTestKit.RelativeL2(actual, expected);
        var ops = OnnxModel.Parse(File.ReadAllBytes(optimized)).Nodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{format}: relative L2 to float32 {error:E2}, {new FileInfo(int8).Length / 1e6:F1} MB; after ONNX Runtime's optimisation: {string.Join(", ", ops.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}");
        error.Should().BeLessThan(0.03);

        // Every convolution runs as an int8 kernel once ONNX Runtime has loaded the model, whichever form was written.
        ops.Should().ContainKey("QLinearConv").WhoseValue.Should().Be(20);
        ops.Should().NotContainKey("Conv");
        ops.Should().NotContainKey("FusedConv");
    }

    /// <summary>
    /// The graph as written, without ONNX Runtime's fusions (QOperator: QLinearConv, QLinearAdd, uint8 MaxPool in NCHW;
    /// QDQ: float operators between quantise/dequantise pairs), computes what the optimised one does.
    /// </summary>
    [Theory]
    [InlineData("QOperator")]
    [InlineData("Qdq")]
    public void Save_Int8WithoutGraphOptimizations_AgreesWithOptimized(string formatName)
    {
        manual_seed(13);
        using var network = new KeypointNetwork(68);
        OnnxTestKit.RandomizeBatchNorms(network, seed: 13);
        var metadata = ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet);
        string path = Path.Combine(folder, "plain.onnx");
        OnnxExport.Save(network, metadata, path, new OnnxExportOptions
        {
            Precision = OnnxPrecision.Int8,
            CalibrationImages = OnnxTestKit.Faces("training", [1, 2, 3, 4]),
            QuantizationFormat = Enum.Parse<Int8Format>(formatName),
        });

        var input = OnnxTestKit.Prepare(OnnxTestKit.Faces("test", [5, 6]), metadata);
        var optimized = OnnxTestKit.Run(path, input, 2, 64, 64);
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        double error = OnnxTestKit.RelativeL2(OnnxTestKit.Run(session, input, 2, 64, 64), optimized);
        output.WriteLine($"{formatName}: unoptimised against optimised, relative L2 {error:E2}");
        error.Should().BeLessThan(0.01);
    }

    [Fact]
    public void SaveClassifier_Int8TruncatedBackbone_CloseToFloat()
    {
        manual_seed(11);
        using var backbone = new ResNet18Backbone();
        using var linear = nn.Linear(256, 3);
        OnnxTestKit.RandomizeBatchNorms(backbone, seed: 11);
        var faces = OnnxTestKit.Faces("training", [1, 2, 3, 4, 5, 6, 7, 8]);
        string fp32 = Path.Combine(folder, "c.onnx"), int8 = Path.Combine(folder, "c-int8.onnx");
        OnnxExport.SaveClassifier(backbone, 3, linear, 64, NormalizationSpec.ImageNet, null, null, fp32);
        OnnxExport.SaveClassifier(backbone, 3, linear, 64, NormalizationSpec.ImageNet, null, null, int8,
            new OnnxExportOptions { Precision = OnnxPrecision.Int8, CalibrationImages = faces });

        var input = Calibration.Prepare(OnnxTestKit.Faces("test", [5, 6, 7]), 64, 64, NormalizationSpec.ImageNet);
        double error = OnnxTestKit.RelativeL2(OnnxTestKit.Run(int8, input, 3, 64, 64), OnnxTestKit.Run(fp32, input, 3, 64, 64));
        output.WriteLine($"classifier to layer3, int8 against float32: relative L2 {error:E2}");
        error.Should().BeLessThan(0.05);
    }

    /// <summary>
    /// A float32 file written again as int8 (the graph read back from the file) is the int8 export of the network
    /// itself: same calibration, same weights, so the same outputs; the metadata is kept, the precision keys change.
    /// </summary>
    [Fact]
    public void Quantize_Float32Files_GiveTheNetworksOwnInt8Export()
    {
        manual_seed(14);
        using var backbone = new ResNet18Backbone();
        using var linear = nn.Linear(256, 3);
        OnnxTestKit.RandomizeBatchNorms(backbone, seed: 14);
        using var network = new KeypointNetwork(68);
        OnnxTestKit.RandomizeBatchNorms(network, seed: 14);
        var metadata = ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet);
        var int8 = new OnnxExportOptions { Precision = OnnxPrecision.Int8, CalibrationImages = OnnxTestKit.Faces("training", [1, 2, 3, 4]) };
        string P(string name) => Path.Combine(folder, name);
        OnnxExport.SaveClassifier(backbone, 3, linear, 64, NormalizationSpec.ImageNet, ["a", "b", "c"], new Dictionary<string, string> { ["kept"] = "yes" }, P("c.onnx"));
        OnnxExport.SaveClassifier(backbone, 3, linear, 64, NormalizationSpec.ImageNet, ["a", "b", "c"], new Dictionary<string, string> { ["kept"] = "yes" }, P("c-int8.onnx"), int8);
        OnnxExport.Save(network, metadata, P("k.onnx"));
        OnnxExport.Save(network, metadata, P("k-int8.onnx"), int8);

        OnnxExport.Quantize(P("c.onnx"), P("c-q.onnx"), int8);
        OnnxExport.Quantize(P("k.onnx"), P("k-q.onnx"), int8);

        var input = Calibration.Prepare(OnnxTestKit.Faces("test", [5, 6, 7]), 64, 64, NormalizationSpec.ImageNet);
        foreach (var (direct, requantized) in new[] { ("c-int8.onnx", "c-q.onnx"), ("k-int8.onnx", "k-q.onnx") })
        {
            var expected = OnnxTestKit.Run(P(direct), input, 3, 64, 64);
            var actual = OnnxTestKit.Run(P(requantized), input, 3, 64, 64);
            output.WriteLine($"{requantized} against {direct}: relative L2 {OnnxTestKit.RelativeL2(actual, expected):E2}");
            actual.Should().Equal(expected);
        }

        using var session = new InferenceSession(P("c-q.onnx"));
        var keys = session.ModelMetadata.CustomMetadataMap;
        keys["fkp.precision"].Should().Be("int8");
        keys["fkp.onnx.int8.calibration_images"].Should().Be("4");
        keys["fkp.labels"].Should().Be("a,b,c");
        keys["kept"].Should().Be("yes");
    }

    [Fact]
    public void Quantize_NotAFloat32ExportOrNotInt8_RefusedNamingTheFile()
    {
        manual_seed(15);
        using var backbone = new ResNet18Backbone();
        using var linear = nn.Linear(128, 2);
        var int8 = new OnnxExportOptions { Precision = OnnxPrecision.Int8, CalibrationImages = OnnxTestKit.Faces("training", [1, 2]) };
        string fp32 = Path.Combine(folder, "f.onnx"), quantized = Path.Combine(folder, "q.onnx"), junk = Path.Combine(folder, "junk.onnx");
        OnnxExport.SaveClassifier(backbone, 2, linear, 32, NormalizationSpec.ImageNet, null, null, fp32);
        OnnxExport.Quantize(fp32, quantized, int8);
        File.WriteAllBytes(junk, [0xFF, 0xFF, 0xFF, 0x01, 0x02]);

        var again = () => OnnxExport.Quantize(quantized, Path.Combine(folder, "q2.onnx"), int8);
        again.Should().Throw<InvalidDataException>().WithMessage($"{quantized}: the model is already int8*");
        var notOnnx = () => OnnxExport.Quantize(junk, Path.Combine(folder, "q3.onnx"), int8);
        notOnnx.Should().Throw<InvalidDataException>().WithMessage($"{junk}: *");
        string detector = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(OnnxTestKit.ShippedModelPath()))!, "FacialKeypoints.Inference", "Models", "blazeface-front-128.onnx");
        var foreign = () => OnnxExport.Quantize(detector, Path.Combine(folder, "q5.onnx"), int8);
        foreign.Should().Throw<InvalidDataException>().WithMessage($"{detector}: expected one input and one output, found 1 and 4.");
        var float32 = () => OnnxExport.Quantize(fp32, Path.Combine(folder, "q4.onnx"), new OnnxExportOptions());
        float32.Should().Throw<ArgumentException>().WithMessage("*Int8*");
        File.Exists(Path.Combine(folder, "q2.onnx")).Should().BeFalse();
    }

    [Fact]
    public void Save_Int8SpatialHead_CloseToFloatAndLeavesNoLiveTensors()
    {
        manual_seed(12);
        using var network = new KeypointNetwork(new ResNet18Backbone(), new SpatialHead(512, 68, grid: 2, channels: 16));
        OnnxTestKit.RandomizeBatchNorms(network, seed: 12);
        var metadata = ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet);
        var faces = OnnxTestKit.Faces("training", [1, 2, 3, 4, 5, 6, 7, 8]);
        string fp32 = Path.Combine(folder, "s.onnx"), int8 = Path.Combine(folder, "s-int8.onnx");
        OnnxExport.Save(network, metadata, fp32);
        long before = TorchSharp.torch.Tensor.TotalCount;
        OnnxExport.Save(network, metadata, int8, new OnnxExportOptions { Precision = OnnxPrecision.Int8, CalibrationImages = faces });
        TorchSharp.torch.Tensor.TotalCount.Should().Be(before, "the export disposes every tensor it makes");

        var input = OnnxTestKit.Prepare(OnnxTestKit.Faces("test", [5, 6, 7]), metadata);
        double error = OnnxTestKit.RelativeL2(OnnxTestKit.Run(int8, input, 3, 64, 64), OnnxTestKit.Run(fp32, input, 3, 64, 64));
        output.WriteLine($"spatial head, int8 against float32: relative L2 {error:E2}");
        error.Should().BeLessThan(0.05);
    }

    [Fact]
    public void QuantizeWeights_PerChannel_KeepsSevenBitsAndHalfAStep()
    {
        float[] weight = [0.5f, -1f, 0.25f, 0f, 0.01f, 0.02f, -0.03f, 0.0299f, 0f, 0f, 0f, 0f];
        var (values, scales) = Int8Writer.QuantizeWeights(weight, outChannels: 3);
        scales.Should().Equal(1f / 63, 0.03f / 63, 1f);
        values.Should().OnlyContain(v => v >= -63 && v <= 63);
        values[1].Should().Be(-63);
        values[6].Should().Be(-63);
        values.Skip(8).Should().OnlyContain(v => v == 0);
        for (int i = 0; i < 8; i++)
        {
            Math.Abs((values[i] * scales[i / 4]) - weight[i]).Should().BeLessThanOrEqualTo((scales[i / 4] / 2) + 1e-7f);
        }
    }

    [Theory]
    [InlineData(0f, 2.55f, 0.01f, 0)]
    [InlineData(-1f, 1.55f, 0.01f, 100)]
    [InlineData(0.5f, 2.55f, 0.01f, 0)]
    [InlineData(-2.55f, -1f, 0.01f, 255)]
    [InlineData(0f, 0f, 1f, 0)]
    public void Uint8Parameters_RangeIncludingZero_GivesScaleAndZeroPoint(float min, float max, float scale, int zeroPoint)
    {
        var (s, z) = new ValueRange(min, max).Uint8Parameters();
        s.Should().BeApproximately(scale, 1e-6f);
        z.Should().Be((byte)zeroPoint);
    }
}
