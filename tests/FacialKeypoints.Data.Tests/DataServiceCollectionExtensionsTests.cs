using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FacialKeypoints.Data.Tests;

public sealed class DataServiceCollectionExtensionsTests
{
    [Fact]
    public void AddFacialKeypointsData_BindsConfigurationAndResolvesScheme()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Root"] = FacialKeypoints.Tests.TestEnvironment.KeypointData }).Build();
        var services = new ServiceCollection().AddFacialKeypointsData(configuration).AddFacialKeypointsData();
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        provider.GetRequiredService<LandmarkScheme>().Should().BeSameAs(LandmarkScheme.Ibug68);
        provider.GetRequiredService<KeypointDataSource>().Open("test").Count.Should().Be(770);
        services.Count(d => d.ServiceType == typeof(KeypointDataSource)).Should().Be(1);
    }

    [Fact]
    public void AddFacialKeypointsData_UnknownScheme_FailsAtStart()
    {
        using var provider = new ServiceCollection().AddFacialKeypointsData(configure: o => o.Scheme = "ibug5").BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IStartupValidator>().Validate()).Should().Throw<OptionsValidationException>();
    }
}
