using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Import;
using FacialKeypoints.Models.Tests.Backbones;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using FacialKeypoints.Tests;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Import;

public class ImageNetResNet18Tests
{
    private const int Size = 224; // The ONNX graph's input and its 7x7 average pool are fixed at 224.

    [Fact]
    public void FindOnnxFile_TestOutput_HasFileBesideTheAssembly()
    {
        string expected = Path.Combine(AppContext.BaseDirectory, ImageNetResNet18.RelativeOnnxPath);

        File.Exists(expected).Should().BeTrue("referencing FacialKeypoints.Training copies ResNet18.onnx to the output");
        ImageNetResNet18.FindOnnxFile().Should().Be(Path.GetFullPath(expected));
    }

    [Fact]
    public void LoadInto_ExtraFinalBlock_MatchesOnnxRuntimePooledFeatures()
    {
        string onnx = OnnxPath();
        float[] rgb = RandomRgbImage(seed: 7);

        float[] expected = RunOnnxRuntime(onnx, rgb);

        using var backbone = new ResNet18Backbone(ResNet18Layout.ExtraFinalBlock);
        ImageNetResNet18.LoadInto(backbone, onnx);
        backbone.eval();
        float[] actual;
        using (no_grad())
        {
            using var image = tensor(rgb, [1, 3, Size, Size]);
            using var normalised = ImageNetResNet18.Normalization.Apply(image);
            using var features = backbone.call(normalised);
            actual = features.data<float>().ToArray();
        }

        actual.Should().HaveCount(512);
        float scale = expected.Max(Math.Abs);
        float maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        scale.Should().BeGreaterThan(0.1f);
        (maxDiff / scale).Should().BeLessThan(1e-4f, $"max |diff| {maxDiff} against max |feature| {scale}");
    }

    [Fact]
    public void LoadInto_ExtraFinalBlock_FillsEveryParameterAndStatistic()
    {
        using var backbone = new ResNet18Backbone(ResNet18Layout.ExtraFinalBlock);

        var report = ImageNetResNet18.LoadInto(backbone, OnnxPath());

        var expected = ResNet18BackboneTests.TorchvisionNames([2, 2, 2, 3]).Where(n => !n.EndsWith("num_batches_tracked", StringComparison.Ordinal));
        report.LoadedNames.Should().BeEquivalentTo(expected);
        report.FileLayout.Should().Be(ResNet18Layout.ExtraFinalBlock);
        report.SkippedBlocks.Should().BeEmpty();
        using var runningVar = backbone.state_dict()["layer3.1.bn2.running_var"].clone();
        runningVar.allclose(ones_like(runningVar)).Should().BeFalse("running statistics come from the file");
    }

    [Fact]
    public void LoadInto_StandardLayout_SkipsLayer4Block2()
    {
        using var backbone = new ResNet18Backbone(ResNet18Layout.Standard);

        var report = ImageNetResNet18.LoadInto(backbone, OnnxPath());

        report.SkippedBlocks.Should().Equal("layer4.2");
        report.LoadedNames.Should().HaveCount(ResNet18BackboneTests.TorchvisionNames([2, 2, 2, 2]).Count(n => !n.EndsWith("num_batches_tracked", StringComparison.Ordinal)));
    }

    [Fact]
    public void LoadInto_FirstConvolution_IsFlippedToRgb()
    {
        string onnx = OnnxPath();
        using var backbone = new ResNet18Backbone(ResNet18Layout.Standard);
        ImageNetResNet18.LoadInto(backbone, onnx);
        var model = OnnxModel.Parse(File.ReadAllBytes(onnx));
        var stemWeight = model.Initializers[model.Nodes.First(n => n.OpType == "Conv").Inputs[1]].ToFloatArray();

        using var ours = backbone.state_dict()["conv1.weight"].clone();
        // Output channel 0, input channel 0 (R) of ours is input channel 2 (R in BGR) of the file.
        float oursR = ours[0, 0, 3, 3].item<float>();
        float fileR = stemWeight[(0 * 3 + 2) * 49 + (3 * 7) + 3];

        oursR.Should().Be(fileR);
    }

    [Fact]
    public void CreateNetwork_RecommendedLayout_HasImportedBackboneAndNewHead()
    {
        using var model = ImageNetResNet18.CreateNetwork(5, onnxPath: OnnxPath());
        using var reference = ImageNetResNet18.CreateBackbone(ResNet18Layout.ExtraFinalBlock, OnnxPath());

        model.Backbone.Layout.Should().Be(ImageNetResNet18.RecommendedLayout);
        model.KeypointCount.Should().Be(5);
        using var ours = model.state_dict()["backbone.layer4.2.conv2.weight"].clone();
        using var expected = reference.state_dict()["layer4.2.conv2.weight"].clone();
        ours.allclose(expected, rtol: 0, atol: 0).Should().BeTrue();
    }

    [Fact]
    public void LoadInto_MissingFile_ThrowsFileNotFoundNamingItAndWhatToReferenceOrSet()
    {
        using var backbone = new ResNet18Backbone();
        string path = Path.Combine(Path.GetTempPath(), "no-such-dir", "ResNet18.onnx");

        var act = () => ImageNetResNet18.LoadInto(backbone, path);

        act.Should().Throw<FileNotFoundException>()
            .WithMessage($"*{path}*")
            .WithMessage("*FacialKeypoints.Training*")
            .WithMessage($"*{ImageNetResNet18.PackageId}*")
            .WithMessage($"*{ImageNetResNet18.PathVariable}*");
    }

    [Fact]
    public void LoadInto_NotAnOnnxFile_ThrowsModelFormatExceptionNamingIt()
    {
        string dir = TestEnvironment.NewTempDirectory();
        try
        {
            string path = Path.Combine(dir, "fake.onnx");
            File.WriteAllText(path, "this is not a protobuf model");
            using var backbone = new ResNet18Backbone();

            var act = () => ImageNetResNet18.LoadInto(backbone, path);

            act.Should().Throw<ModelFormatException>().Where(e => e.FilePath == path).WithMessage($"*{path}*");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LoadInto_PreprocessingModel_ThrowsModelFormatException()
    {
        string prep = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        using var backbone = new ResNet18Backbone();

        var act = () => ImageNetResNet18.LoadInto(backbone, prep);

        act.Should().Throw<ModelFormatException>().WithMessage("*ResNetPreprocess.onnx*");
    }

    internal static string OnnxPath() =>
        ImageNetResNet18.FindOnnxFile() ?? throw new FileNotFoundException("ResNet18.onnx is not in the test output.");

    internal static float[] RandomRgbImage(int seed)
    {
        var random = new Random(seed);
        var rgb = new float[3 * Size * Size];
        for (int i = 0; i < rgb.Length; i++)
        {
            rgb[i] = (float)random.NextDouble();
        }

        return rgb;
    }

    /// <summary>
    /// Runs the original graph on the same image in its own convention: BGR, 0-255, minus the channel means
    /// (the per-pixel mean image is what ResNetPreprocess.onnx subtracts; its channel averages are what our
    /// <see cref="NormalizationSpec.ImportedResNet18"/> uses, so both sides see the same numbers).
    /// </summary>
    internal static float[] RunOnnxRuntime(string onnxPath, float[] rgb)
    {
        var mean = ImageNetResNet18.Normalization.Mean;
        int plane = Size * Size;
        var input = new DenseTensor<float>([1, 3, Size, Size]);
        var span = input.Buffer.Span;
        for (int c = 0; c < 3; c++)
        {
            int source = 2 - c; // BGR <- RGB
            for (int i = 0; i < plane; i++)
            {
                span[(c * plane) + i] = (rgb[(source * plane) + i] - mean[source]) * 255f;
            }
        }

        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(onnxPath, options);
        string inputName = session.InputMetadata.Keys.Single();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, input)]);
        var output = results.Single().AsTensor<float>();
        output.Dimensions.ToArray().Should().Equal(1, 512, 1, 1);
        return output.ToArray();
    }
}
