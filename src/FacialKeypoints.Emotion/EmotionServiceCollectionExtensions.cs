using FacialKeypoints.Emotion;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the FacialKeypoints expression classifier.</summary>
public static class EmotionServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IExpressionClassifier"/> (a singleton chosen by <see cref="ExpressionClassifierOptions"/>) with the
    /// options bound from <paramref name="configuration"/> when given, then <paramref name="configure"/>, validated when
    /// the host starts. Calling it twice is harmless.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">A configuration section to bind, or null.</param>
    /// <param name="configure">Further configuration, or null.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddFacialKeypointsEmotion(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<ExpressionClassifierOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ExpressionClassifierOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations()
            .Validate(o => o.ValidateAll().Count == 0, "ExpressionClassifierOptions: a learned or rule setting is out of range.")
            .ValidateOnStart();
        services.TryAddSingleton(sp => ExpressionClassifierFactory.Create(sp.GetRequiredService<IOptions<ExpressionClassifierOptions>>().Value));
        return services;
    }
}
