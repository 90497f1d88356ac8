using System.ComponentModel.DataAnnotations;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Tests;
using FluentAssertions;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Export;

/// <summary>
/// ONNX export against TorchSharp. Tolerance: relative L2 error of the whole output below 1e-4 for float32 (the
/// folding in double precision and ONNX Runtime's kernels differ from libtorch by float rounding only; measured
/// about 1e-6 to 1e-5).
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output) : IDisposable
{
    private const double Float32Tolerance = 1e-4;
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Save_ShippedModel_MatchesTorchSharpOnRandomInputsAndTestFaces()
    {
        var (network, metadata) = KeypointCheckpoint.Load(OnnxTestKit.ShippedModelPath());
        using var _ = network;
        string path = Path.Combine(folder, "landmarks.onnx");
        OnnxExport.Save(network, metadata, path);
        int size = metadata.InputWidth;

        using var session = OnnxTestKit.Session(path, threads: 2);
        var faces = OnnxTestKit.Prepare(OnnxTestKit.Faces("test", [0, 100, 200, 300, 400, 500]), metadata);
        var random = new Random(7);
        var noise = new float[2 * 3 * size * size];
        for (int i = 0; i < noise.Length; i++)
        {
            noise[i] = (float)((random.NextDouble() * 4) - 2);
        }

        foreach (var (name, input, batch) in new[] { ("test faces", faces, 6), ("random", noise, 2) })
        {
            var expected = OnnxTestKit.Torch(network, input, batch, size, size);
            var actual = OnnxTestKit.Run(session, input, batch, size, size);
            double error = OnnxTestKit.RelativeL2(actual, expected);
            output.WriteLine($"{name}, batch {batch}: relative L2 {error:E2}, max abs {expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max():E2}");
            actual.Should().HaveCount(batch * 2 * metadata.KeypointCount);
            error.Should().BeLessThan(Float32Tolerance);
        }

        // The batch dimension is symbolic: one image alone gives the same answer as inside a batch.
        var single = OnnxTestKit.Run(session, faces[..(3 * size * size)], 1, size, size);
        OnnxTestKit.RelativeL2(single, OnnxTestKit.Run(session, faces, 6, size, size)[..single.Length]).Should().BeLessThan(1e-6);
    }

    [Fact]
    public void Save_Metadata_CarriesWhatTheInferenceSideNeeds()
    {
        using var network = new KeypointNetwork(LandmarkScheme.Ibug68.Count);
        var metadata = ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet) with
        {
            Extra = new Dictionary<string, string> { ["validation_nme"] = "0.05" },
        };
        string path = Path.Combine(folder, "m.onnx");
        OnnxExport.Save(network, metadata, path);

        using var session = OnnxTestKit.Session(path);
        var map = session.ModelMetadata.CustomMetadataMap;
        map["fkp.onnx.format"].Should().Be(OnnxExport.FormatVersion);
        map["fkp.onnx.output_kind"].Should().Be("keypoints");
        map["fkp.precision"].Should().Be("float32");
        map["fkp.input_width"].Should().Be("64");
        map["fkp.input_height"].Should().Be("64");
        map["fkp.keypoint_count"].Should().Be("68");
        map["fkp.scheme"].Should().Be(LandmarkScheme.Ibug68.Name);
        map["fkp.flip_permutation"].Split(',').Select(int.Parse).Should().Equal(LandmarkScheme.Ibug68.FlipPermutation);
        map["fkp.normalization.mean"].Should().Be("0.485,0.456,0.406");
        map["fkp.normalization.std"].Should().Be("0.229,0.224,0.225");
        map["fkp.head.kind"].Should().Be(ReferenceHead.HeadKind);
        map["fkp.layout"].Should().Be("2,2,2,2");
        map["validation_nme"].Should().Be("0.05");

        var input = session.InputMetadata[OnnxExport.InputName];
        input.Dimensions.Should().Equal(-1, 3, 64, 64);
        session.InputMetadata.Single().Key.Should().Be("input");
        session.OutputMetadata.Single().Key.Should().Be("output");
        session.OutputMetadata[OnnxExport.OutputName].Dimensions.Should().Equal(-1, 136);
    }

    [Theory]
    [InlineData(3, 3, 96)]
    [InlineData(3, 2, 112)]
    [InlineData(2, 5, 96)]
    [InlineData(4, 2, 96)]
    public void SaveClassifier_TruncatedBackboneAndLinear_MatchesTorchSharp(int stages, int classes, int size)
    {
        manual_seed(stages);
        using var backbone = new ResNet18Backbone();
        using var linear = nn.Linear(64 << (stages - 1), classes);
        OnnxTestKit.RandomizeBatchNorms(backbone, seed: stages);
        backbone.eval();
        string path = Path.Combine(folder, "classifier.onnx");
        string[] labels = [.. Enumerable.Range(0, classes).Select(i => $"class{i}")];
        OnnxExport.SaveClassifier(backbone, stages, linear, size, NormalizationSpec.ImageNet, labels, new Dictionary<string, string> { ["members"] = "1" }, path);

        using var input = randn(4, 3, size, size);
        float[] expected;
        using (var noGrad = no_grad())
        using (var map = backbone.FeatureMap(input, stages))
        using (var pooled = nn.functional.adaptive_avg_pool2d(map, 1))
        using (var flat = pooled.flatten(1))
        using (var logits = linear.call(flat))
        {
            expected = logits.data<float>().ToArray();
        }

        var actual = OnnxTestKit.Run(path, input.data<float>().ToArray(), 4, size, size);
        double error = OnnxTestKit.RelativeL2(actual, expected);
        output.WriteLine($"{stages} stages, {classes} classes, {size} px: relative L2 {error:E2}");
        error.Should().BeLessThan(Float32Tolerance);

        using var session = OnnxTestKit.Session(path);
        var metadataMap = session.ModelMetadata.CustomMetadataMap;
        metadataMap["fkp.labels"].Should().Be(string.Join(",", labels));
        metadataMap["fkp.onnx.stages"].Should().Be(stages.ToString(System.Globalization.CultureInfo.InvariantCulture));
        metadataMap["fkp.onnx.output_kind"].Should().Be("logits");
        metadataMap["members"].Should().Be("1");
    }

    [Fact]
    public void Save_SpatialHeadAndExtraBlockLayout_MatchesTorchSharp()
    {
        manual_seed(3);
        using var network = new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.ExtraFinalBlock), new SpatialHead(512, 5, grid: 2, channels: 16));
        OnnxTestKit.RandomizeBatchNorms(network, seed: 3);
        var metadata = new ModelMetadata { InputWidth = 64, InputHeight = 64 };
        string path = Path.Combine(folder, "spatial.onnx");
        OnnxExport.Save(network, metadata, path);

        using var input = randn(3, 3, 64, 64);
        var data = input.data<float>().ToArray();
        double error = OnnxTestKit.RelativeL2(OnnxTestKit.Run(path, data, 3, 64, 64), OnnxTestKit.Torch(network, data, 3, 64, 64));
        output.WriteLine($"spatial head, layout 2,2,2,3: relative L2 {error:E2}");
        error.Should().BeLessThan(Float32Tolerance);
    }

    [Fact]
    public void GraphEvaluator_FoldedGraph_MatchesModules()
    {
        manual_seed(5);
        using var network = new KeypointNetwork(7);
        OnnxTestKit.RandomizeBatchNorms(network, seed: 5);
        network.eval();
        var graph = GraphBuilder.FromKeypointNetwork(network);
        graph.Nodes.OfType<ConvNode>().Should().HaveCount(1 + 16 + 3);
        graph.Nodes.OfType<AddNode>().Should().HaveCount(8);
        graph.Nodes.OfType<GemmNode>().Should().HaveCount(2);

        using var evaluator = new GraphEvaluator(graph);
        using var input = randn(2, 3, 64, 64);
        using var folded = evaluator.Run(input);
        var expected = OnnxTestKit.Torch(network, input.data<float>().ToArray(), 2, 64, 64);
        OnnxTestKit.RelativeL2(folded.data<float>().ToArray(), expected).Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Save_Int8WithoutCalibrationImages_Throws()
    {
        using var network = new KeypointNetwork(5);
        FluentActions.Invoking(() => OnnxExport.Save(network, new ModelMetadata { InputWidth = 64, InputHeight = 64 }, Path.Combine(folder, "x.onnx"), new OnnxExportOptions { Precision = OnnxPrecision.Int8 }))
            .Should().Throw<ValidationException>().WithMessage("*calibration*");
        File.Exists(Path.Combine(folder, "x.onnx")).Should().BeFalse();
    }

    [Fact]
    public void Save_UnknownHead_ThrowsNotSupported()
    {
        using var network = new KeypointNetwork(new ResNet18Backbone(), new LinearHead(512, 3));
        FluentActions.Invoking(() => OnnxExport.Save(network, new ModelMetadata { InputWidth = 64, InputHeight = 64 }, Path.Combine(folder, "x.onnx")))
            .Should().Throw<NotSupportedException>().WithMessage("*custom-linear*");
    }

    private sealed class LinearHead : KeypointHead
    {
        private readonly TorchSharp.Modules.Linear output;

        public LinearHead(int inFeatures, int keypointCount)
            : base(nameof(LinearHead), inFeatures, keypointCount)
        {
            output = nn.Linear(inFeatures, OutFeatures);
            RegisterComponents();
        }

        public override string Kind => "custom-linear";

        public override Tensor forward(Tensor input) => output.call(input);
    }
}
