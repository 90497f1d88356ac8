using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FacialKeypoints.Training.Tests;

public sealed class TrainingServiceCollectionExtensionsTests
{
    [Fact]
    public void AddFacialKeypointsTraining_BindsOptionsAndResolvesTrainer()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Epochs"] = "7", ["Loss"] = "L1" }).Build();
        using var provider = new ServiceCollection().AddFacialKeypointsTraining(configuration).AddFacialKeypointsTraining().BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var trainer = provider.GetRequiredService<KeypointTrainer>();
        trainer.Options.Epochs.Should().Be(7);
        trainer.Options.Loss.Should().Be(LossKind.L1);
    }

    [Theory]
    [InlineData("InputSize", "100")]
    [InlineData("Epochs", "0")]
    public void AddFacialKeypointsTraining_InvalidOptions_FailAtStart(string key, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        using var provider = new ServiceCollection().AddFacialKeypointsTraining(configuration).BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<OptionsValidationException>();
    }
}
