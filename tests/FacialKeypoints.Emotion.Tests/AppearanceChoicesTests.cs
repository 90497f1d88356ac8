namespace FacialKeypoints.Emotion.Tests;

public class AppearanceChoicesTests
{
    [Theory]
    [InlineData(AppearanceBackbone.ImageNetResNet18, 1)]
    [InlineData(AppearanceBackbone.KeypointResNet18, 1)]
    [InlineData(AppearanceBackbone.Both, 2)]
    public void Parts_EachBackbone_GivesTheNetworksItRuns(AppearanceBackbone backbone, int count) =>
        AppearanceNames.Parts(backbone).Should().HaveCount(count);

    [Fact]
    public void AppearanceSpec_BothBackbones_CountsFeaturesOfEach()
    {
        var one = new AppearanceSpec(AppearanceBackbone.ImageNetResNet18, CropSpec.Face224, false, AppearancePooling.LandmarkLayer3);
        var both = one with { Backbone = AppearanceBackbone.Both };

        both.FeatureCount().Should().Be(2 * one.FeatureCount());
    }

    [Theory]
    [InlineData(AppearancePooling.Layer4, "layer4")]
    [InlineData(AppearancePooling.Layer3AndLayer4, "layer3+layer4")]
    [InlineData(AppearancePooling.Layer3Grid2AndLayer4, "layer3grid2+layer4")]
    [InlineData(AppearancePooling.LandmarkLayer3, "landmarks-layer3")]
    [InlineData(AppearancePooling.LandmarkLayer2And3, "landmarks-layer2+3")]
    public void Names_Pooling_RoundTripTheStoredName(AppearancePooling pooling, string name)
    {
        AppearanceNames.ToName(pooling).Should().Be(name);
        AppearanceNames.Parse<AppearancePooling>(name).Should().Be(pooling);
    }

    [Fact]
    public void Json_ParametersFile_StoresTheChoicesByTheirNames()
    {
        var spec = new AppearanceSpec(AppearanceBackbone.Both, CropSpec.Face224, false, AppearancePooling.LandmarkLayer3);

        string json = System.Text.Json.JsonSerializer.Serialize(spec);

        json.Should().Contain("keypoint-resnet18\"").And.Contain("\"landmarks-layer3\"");
        System.Text.Json.JsonSerializer.Deserialize<AppearanceSpec>(json).Should().Be(spec);
    }

    [Theory]
    [InlineData("\"vgg16\"")]
    [InlineData("3")]
    public void Load_UnknownPooling_ThrowsFormatExceptionListingTheKnownNames(string pooling)
    {
        string json = System.Text.Json.JsonSerializer.Serialize(ExpressionModelParameters.LoadEmbedded(), new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase })
            .Replace("\"landmarks-layer3\"", pooling, StringComparison.Ordinal);
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));

        var act = () => ExpressionModelParameters.Load(stream, "custom.json");

        act.Should().Throw<FormatException>().WithMessage("*custom.json*");
    }
}
