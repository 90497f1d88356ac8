namespace FacialKeypoints.Emotion.Tests;

public class AppearanceBackbonesTests
{
    [Theory]
    [InlineData(AppearanceBackbones.ImageNetResNet18, 1)]
    [InlineData(AppearanceBackbones.KeypointResNet18, 1)]
    [InlineData(AppearanceBackbones.Both, 2)]
    public void Split_KnownNames_GivesEachBackbone(string backbone, int count) =>
        AppearanceBackbones.Split(backbone).Should().HaveCount(count);

    [Theory]
    [InlineData("vgg16")]
    [InlineData("keypoint-resnet18+keypoint-resnet18")]
    [InlineData("")]
    public void Split_UnknownOrRepeated_Throws(string backbone)
    {
        var act = () => AppearanceBackbones.Split(backbone);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void AppearanceSpec_BothBackbones_CountsFeaturesOfEach()
    {
        var one = new AppearanceSpec(AppearanceBackbones.ImageNetResNet18, CropSpec.Face224, false, AppearancePooling.LandmarkLayer3);
        var both = one with { Backbone = AppearanceBackbones.Both };

        both.FeatureCount().Should().Be(2 * one.FeatureCount());
    }

    [Fact]
    public void UsesKeypointModel_OnlyWhenNamed()
    {
        AppearanceBackbones.UsesKeypointModel(AppearanceBackbones.ImageNetResNet18).Should().BeFalse();
        AppearanceBackbones.UsesKeypointModel(AppearanceBackbones.Both).Should().BeTrue();
    }
}
