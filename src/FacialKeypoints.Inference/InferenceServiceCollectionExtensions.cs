using FacialKeypoints.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the ONNX Runtime inference pipeline.</summary>
public static class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="FacePipeline"/> (thread-safe, shared by all callers) with
    /// <see cref="FacePipelineOptions"/> bound from <paramref name="configuration"/> (when given), then
    /// <paramref name="configure"/>, validated when the host starts; model files named in the options must exist.
    /// Calling it twice is harmless.
    /// </summary>
    /// <param name="services">The collection.</param>
    /// <param name="configuration">A configuration section to bind, or null.</param>
    /// <param name="configure">Code that sets options, or null.</param>
    /// <returns>The collection, for chaining.</returns>
    public static IServiceCollection AddFacialKeypointsInference(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<FacePipelineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<FacePipelineOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.LandmarkModelPath) || File.Exists(o.LandmarkModelPath), "LandmarkModelPath names a file that does not exist.")
            .Validate(o => string.IsNullOrEmpty(o.ExpressionModelPath) || File.Exists(o.ExpressionModelPath), "ExpressionModelPath names a file that does not exist.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => new FacePipeline(sp.GetRequiredService<IOptions<FacePipelineOptions>>().Value));
        return services;
    }
}
