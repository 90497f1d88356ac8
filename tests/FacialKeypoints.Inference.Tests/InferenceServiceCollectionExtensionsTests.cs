using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FacialKeypoints.Inference.Tests;

public sealed class InferenceServiceCollectionExtensionsTests
{
    [Fact]
    public void AddFacialKeypointsInference_ResolvesOneSharedPipelineWithTheOptions()
    {
        var services = new ServiceCollection().AddFacialKeypointsInference(configure: o => o.Expression = false);
        services.AddFacialKeypointsInference();
        using var provider = services.BuildServiceProvider();

        var pipeline = provider.GetRequiredService<FacePipeline>();

        provider.GetRequiredService<FacePipeline>().Should().BeSameAs(pipeline);
        pipeline.Options.Expression.Should().BeFalse();
        pipeline.Scheme.Count.Should().Be(68);
    }

    [Fact]
    public void AddFacialKeypointsInference_InvalidOptions_FailValidation()
    {
        using var provider = new ServiceCollection().AddFacialKeypointsInference(configure: o => o.MaxFaces = 0).BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IOptions<FacePipelineOptions>>().Value)
            .Should().Throw<OptionsValidationException>().WithMessage("*MaxFaces*");
    }

    [Fact]
    public void AddFacialKeypointsInference_MissingModelFile_FailsValidation()
    {
        using var provider = new ServiceCollection().AddFacialKeypointsInference(configure: o => o.LandmarkModelPath = "/nowhere.onnx").BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IOptions<FacePipelineOptions>>().Value)
            .Should().Throw<OptionsValidationException>().WithMessage("*LandmarkModelPath*");
    }
}
