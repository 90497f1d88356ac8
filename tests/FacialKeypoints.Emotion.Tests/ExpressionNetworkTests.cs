using FacialKeypoints.Data;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Tests;
using static TorchSharp.torch;

namespace FacialKeypoints.Emotion.Tests;

public sealed class ExpressionNetworkTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static ExpressionNetworkSpec Spec(int stages = 3) =>
        new(stages, [ExpressionLabel.Neutral, ExpressionLabel.Positive], new CropSpec(0, 0.45f, 2.2f, 64), MirrorAverage: true);

    [Theory]
    [InlineData(3, 256)]
    [InlineData(4, 512)]
    public void Forward_Stages_GiveOneLogitPerClassFromTheRightWidth(int stages, int width)
    {
        using var network = new ExpressionNetwork(stages, classCount: 3);
        using var input = randn(2, 3, 64, 64);

        using var logits = network.call(input);

        logits.shape.Should().Equal(2, 3);
        ExpressionNetwork.FeatureCount(stages).Should().Be(width);
        network.state_dict().Keys.Where(network.IsUsed).Any(k => k.StartsWith("backbone.layer4.", StringComparison.Ordinal)).Should().Be(stages == 4);
    }

    [Fact]
    public void FreezeBelow_StageThree_TrainsOnlyLayer3AndTheClassifierAndKeepsFrozenBatchNormInEvalMode()
    {
        using var network = new ExpressionNetwork(3, 2);

        network.FreezeBelow(3);
        network.train();

        var trained = network.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        trained.Should().OnlyContain(n => n.StartsWith("backbone.layer3.", StringComparison.Ordinal) || n.StartsWith("backbone.layer4.", StringComparison.Ordinal) || n.StartsWith("classifier.", StringComparison.Ordinal));
        trained.Should().Contain("classifier.weight");
        var children = network.Backbone.named_children().ToDictionary(c => c.name, c => c.module);
        children["bn1"].training.Should().BeFalse();
        children["layer2"].training.Should().BeFalse();
        children["layer3"].training.Should().BeTrue();
    }

    [Fact]
    public void SaveLoad_TwoMembersFloat32_RoundTripsOutputsSpecAndNotesWithoutUnusedStages()
    {
        var first = new ExpressionNetwork(3, 2);
        var second = new ExpressionNetwork(3, 2);
        foreach (var network in new[] { first, second })
        {
            // Move the batch-norm statistics away from their defaults so that a lost buffer would show.
            network.train();
            using var warm = randn(4, 3, 64, 64).mul(3).add(1);
            using var ignored = network.call(warm);
        }

        using var saved = new ExpressionNetworkModel([first, second], Spec(), new Dictionary<string, string> { ["fit"] = "test" });
        string path = Path.Combine(folder, "net.safetensors");

        ExpressionNetworkFile.Save(path, saved, CheckpointPrecision.Float32);
        using var loaded = ExpressionNetworkFile.Load(path);

        loaded.Members.Should().HaveCount(2);
        using var input = randn(2, 3, 64, 64);
        for (int k = 0; k < 2; k++)
        {
            using var expected = saved.Members[k].call(input);
            using var actual = loaded.Members[k].call(input);
            actual.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue();
        }

        loaded.Spec.Should().BeEquivalentTo(Spec());
        loaded.Notes.Should().ContainKey("fit").WhoseValue.Should().Be("test");
        using var stream = File.OpenRead(path);
        WeightsFile.ReadHeader(stream, path).Shapes.Keys.Should().NotContain(k => k.Contains(".backbone.layer4.", StringComparison.Ordinal));
    }

    [Fact]
    public void Save_Float16_IsAboutHalfTheSizeAndCloseInProbability()
    {
        using var model = new ExpressionNetworkModel([new ExpressionNetwork(3, 2)], Spec());
        var network = model.Members[0];
        string full = Path.Combine(folder, "f32.safetensors"), half = Path.Combine(folder, "f16.safetensors");

        ExpressionNetworkFile.Save(full, model, CheckpointPrecision.Float32);
        ExpressionNetworkFile.Save(half, model, CheckpointPrecision.Float16);
        using var loaded = ExpressionNetworkFile.Load(half);

        new FileInfo(half).Length.Should().BeLessThan((long)(new FileInfo(full).Length * 0.55));
        using (var input = randn(2, 3, 64, 64))
        using (var expected = nn.functional.softmax(network.call(input), 1))
        using (var actual = nn.functional.softmax(loaded.Members[0].call(input), 1))
        {
            actual.sub(expected).abs().max().item<float>().Should().BeLessThan(0.01f);
        }
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsNamingTheFile()
    {
        using var model = new ExpressionNetworkModel([new ExpressionNetwork(3, 2)], Spec());
        string path = Path.Combine(folder, "net.safetensors");
        ExpressionNetworkFile.Save(path, model);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var act = () => ExpressionNetworkFile.Load(path);

        act.Should().Throw<ModelFormatException>().Where(e => e.FilePath == path).WithMessage("*truncated*");
    }

    [Fact]
    public void Load_WeightsFileOfAnotherKind_ThrowsSayingItIsNotAnExpressionNetwork()
    {
        string path = Path.Combine(folder, "other.safetensors");
        using var t = zeros(2, 2);
        WeightsFile.Save(path, [new("x", t)], new Dictionary<string, string> { ["kind"] = "other" });

        var act = () => ExpressionNetworkFile.Load(path);

        act.Should().Throw<ModelFormatException>().WithMessage("*not an expression network*");
    }

    [Fact]
    public void Perturbed_NoChange_IsTheSameFrameAndRotationTurnsTheAxis()
    {
        var frame = FaceFrame.FromLandmarks(TestFaces.Frontal());

        frame.Perturbed(0, 1, 0, 0).Should().Be(frame);
        var turned = frame.Perturbed(90, 2, 0.5f, 0);
        turned.AxisX.Should().BeApproximately(-frame.AxisY, 1e-5f);
        turned.AxisY.Should().BeApproximately(frame.AxisX, 1e-5f);
        turned.Scale.Should().BeApproximately(2 * frame.Scale, 1e-4f);
        var (x, y) = frame.ToImage(0.5f, 0);
        turned.OriginX.Should().BeApproximately(x, 1e-4f);
        turned.OriginY.Should().BeApproximately(y, 1e-4f);
    }

    [Fact]
    public void Classify_NoImage_ThrowsSayingTheCropIsNeeded()
    {
        using var classifier = new NetworkExpressionClassifier(new ExpressionNetworkModel([new ExpressionNetwork(3, 2)], Spec()));

        var act = () => classifier.Classify(new ExpressionInput(TestFaces.Frontal()));

        act.Should().Throw<ArgumentException>().WithMessage("*no image*");
    }
}
