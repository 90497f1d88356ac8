using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Heads;

public sealed class SpatialHeadTests : IDisposable
{
    private readonly string directory = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Forward_MapOfItsGrid_GivesTwoValuesPerKeypoint()
    {
        using var head = new SpatialHead(512, 68, grid: 2, channels: 8);
        head.eval();
        using var _ = no_grad();
        using var map = randn(3, 512, 2, 2);

        using var output = head.call(map);

        output.shape.Should().Equal(3, 136);
        head.ReadsFeatureMap.Should().BeTrue();
        head.named_parameters().Select(p => p.name).Should().BeEquivalentTo("reduce.weight", "norm.weight", "norm.bias", "output.weight", "output.bias");
    }

    [Fact]
    public void Forward_MapOfAnotherSize_NamesTheInputSizeItNeeds()
    {
        using var head = new SpatialHead(512, 68, grid: 5);
        using var map = randn(1, 512, 4, 4);

        FluentActions.Invoking(() => head.call(map)).Should().Throw<ArgumentException>().WithMessage("*[B, 512, 5, 5] (input 160 px)*[1, 512, 4, 4]*");
    }

    [Fact]
    public void Network_WithSpatialHead_SeesWhereFeaturesAre()
    {
        // The reference head sees the average over the image, so a mirror image with the mirrored weights of a
        // symmetric backbone gives it the same input. The spatial head must see the difference.
        torch.manual_seed(1);
        using var network = new KeypointNetwork(new ResNet18Backbone(), new SpatialHead(512, 5, grid: 2, channels: 4));
        network.eval();
        using var _ = no_grad();
        using var images = randn(2, 3, 64, 64);

        var (keypoints, features) = network.ForwardWithFeatures(images);
        using (keypoints)
        using (features)
        using (var pooled = network.Backbone.call(images))
        using (var direct = network.call(images))
        {
            keypoints.shape.Should().Equal(2, 10);
            features.allclose(pooled, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
            direct.allclose(keypoints, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
            using var flipped = network.call(images.flip(3));
            flipped.allclose(keypoints, rtol: 1e-3, atol: 1e-4).Should().BeFalse();
        }
    }

    [Fact]
    public void Checkpoint_WithSpatialHead_LoadsWithoutAFactory()
    {
        torch.manual_seed(2);
        string path = Path.Combine(directory, "spatial.safetensors");
        using var network = new KeypointNetwork(new ResNet18Backbone(), new SpatialHead(512, 68, grid: 2, channels: 8));
        network.eval();
        KeypointCheckpoint.Save(path, network, ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet));

        var (loaded, metadata) = KeypointCheckpoint.Load(path);
        using (loaded)
        using (no_grad())
        using (var images = randn(1, 3, 64, 64))
        using (var expected = network.call(images))
        using (var actual = loaded.call(images))
        {
            metadata.HeadKind.Should().Be(SpatialHead.HeadKind);
            loaded.Head.Should().BeOfType<SpatialHead>().Which.Grid.Should().Be(2);
            ((SpatialHead)loaded.Head).Channels.Should().Be(8);
            actual.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        }
    }

    [Fact]
    public void FromSettings_WithoutGrid_IsAFormatError() =>
        FluentActions.Invoking(() => SpatialHead.FromSettings(512, 68, new Dictionary<string, string> { [SpatialHead.ChannelsKey] = "8" }))
            .Should().Throw<FormatException>().WithMessage("*grid*");
}
