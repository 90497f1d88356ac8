using FacialKeypoints.Models.Backbones;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Backbones;

public class ResNet18BackboneTests
{
    private static readonly string[] BatchNormSuffixes = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"];

    [Fact]
    public void StateDict_StandardLayout_MatchesTorchvisionNamesWithoutFc()
    {
        using var backbone = new ResNet18Backbone();

        var names = backbone.state_dict().Keys.ToList();

        names.Should().BeEquivalentTo(TorchvisionNames([2, 2, 2, 2]));
        names.Should().HaveCount(120, "torchvision's resnet18 state_dict has 122 entries, two of them fc");
    }

    [Fact]
    public void StateDict_ExtraFinalBlock_AddsLayer4Block2()
    {
        using var backbone = new ResNet18Backbone(ResNet18Layout.ExtraFinalBlock);

        var names = backbone.state_dict().Keys.ToList();

        names.Should().BeEquivalentTo(TorchvisionNames([2, 2, 2, 3]));
        names.Should().Contain("layer4.2.conv2.weight").And.NotContain("layer4.2.downsample.0.weight");
    }

    [Theory]
    [InlineData(1, 64, 64)]
    [InlineData(2, 96, 64)]
    public void Forward_InputMultipleOf32_ReturnsPooledFeatures(int batch, int height, int width)
    {
        using var backbone = new ResNet18Backbone();
        backbone.eval();
        using var _ = no_grad();
        using var images = randn(batch, 3, height, width);

        using var features = backbone.call(images);

        features.shape.Should().Equal(batch, 512);
        backbone.OutFeatures.Should().Be(512);
    }

    [Fact]
    public void FeatureMap_Input64_ReturnsStride32Map()
    {
        using var backbone = new ResNet18Backbone();
        backbone.eval();
        using var _ = no_grad();
        using var images = randn(1, 3, 64, 96);

        using var map = backbone.FeatureMap(images);

        map.shape.Should().Equal(1, 512, 2, 3);
    }

    [Theory]
    [InlineData(1, 64, 16)]
    [InlineData(2, 128, 8)]
    [InlineData(3, 256, 4)]
    [InlineData(4, 512, 2)]
    public void FeatureMap_Stages_StopsAfterThatStage(int stages, int channels, int side)
    {
        using var backbone = new ResNet18Backbone();
        backbone.eval();
        using var _ = no_grad();
        using var images = randn(1, 3, 64, 64);

        using var map = backbone.FeatureMap(images, stages);
        using var full = backbone.FeatureMap(images);

        map.shape.Should().Equal(1, channels, side, side);
        if (stages == 4)
        {
            map.allclose(full).Should().BeTrue();
        }
    }

    [Fact]
    public void FeatureMap_StagesOutOfRange_Throws()
    {
        using var backbone = new ResNet18Backbone();
        using var images = randn(1, 3, 64, 64);

        var act = () => backbone.FeatureMap(images, 5);

        act.Should().Throw<ArgumentOutOfRangeException>();
        backbone.Stage(3).Should().BeSameAs(backbone.named_children().Single(c => c.name == "layer3").module);
    }

    [Fact]
    public void Forward_WrongChannelCount_Throws()
    {
        using var backbone = new ResNet18Backbone();
        using var images = randn(1, 1, 64, 64);

        var act = () => backbone.call(images);

        act.Should().Throw<ArgumentException>().WithMessage("*[B, 3, H, W]*");
    }

    internal static IEnumerable<string> TorchvisionNames(int[] blocks)
    {
        yield return "conv1.weight";
        foreach (string s in BatchNormSuffixes)
        {
            yield return $"bn1.{s}";
        }

        for (int stage = 1; stage <= 4; stage++)
        {
            for (int b = 0; b < blocks[stage - 1]; b++)
            {
                string p = $"layer{stage}.{b}";
                yield return $"{p}.conv1.weight";
                yield return $"{p}.conv2.weight";
                foreach (string s in BatchNormSuffixes)
                {
                    yield return $"{p}.bn1.{s}";
                    yield return $"{p}.bn2.{s}";
                }

                if (stage > 1 && b == 0)
                {
                    yield return $"{p}.downsample.0.weight";
                    foreach (string s in BatchNormSuffixes)
                    {
                        yield return $"{p}.downsample.1.{s}";
                    }
                }
            }
        }
    }
}
