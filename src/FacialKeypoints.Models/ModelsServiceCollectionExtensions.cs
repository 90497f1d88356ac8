using FacialKeypoints.Models.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the FacialKeypoints model services.</summary>
public static class ModelsServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="KeypointPredictor"/> (the shipped model unless <see cref="PredictorOptions.ModelPath"/>
    /// is set) with <see cref="PredictorOptions"/> bound from <paramref name="configuration"/> (when given), then
    /// <paramref name="configure"/>, validated when the host starts. The model file must exist at start. Calling
    /// it twice is harmless.
    /// </summary>
    public static IServiceCollection AddFacialKeypointsModels(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<PredictorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<PredictorOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.ModelPath) ? ShippedModel.Find() is not null : File.Exists(o.ModelPath), "The keypoint model file was not found: set ModelPath, reference FacialKeypoints.Models.Pretrained, or set FKP_MODEL.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => KeypointPredictor.Load(sp.GetRequiredService<IOptions<PredictorOptions>>().Value));
        return services;
    }
}
