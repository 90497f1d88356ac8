using FacialKeypoints.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the FacialKeypoints data services.</summary>
public static class DataServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="KeypointDataSource"/> and the configured <see cref="LandmarkScheme"/>, with
    /// <see cref="KeypointDataOptions"/> bound from <paramref name="configuration"/> (when given), then
    /// <paramref name="configure"/>, validated when the host starts. Calling it twice is harmless.
    /// </summary>
    public static IServiceCollection AddFacialKeypointsData(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<KeypointDataOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<KeypointDataOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations()
            .Validate(o => o.Scheme == "ibug68", "Scheme must name a built-in landmark scheme (ibug68).")
            .ValidateOnStart();
        services.TryAddSingleton<KeypointDataSource>();
        services.TryAddSingleton(sp => sp.GetRequiredService<KeypointDataSource>().Scheme);
        return services;
    }
}
