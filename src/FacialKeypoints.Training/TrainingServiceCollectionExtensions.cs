using FacialKeypoints.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the FacialKeypoints training services.</summary>
public static class TrainingServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="KeypointTrainer"/> with <see cref="TrainerOptions"/> bound from <paramref name="configuration"/>
    /// (when given), then <paramref name="configure"/>, validated when the host starts. Calling it twice is harmless.
    /// </summary>
    public static IServiceCollection AddFacialKeypointsTraining(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<TrainerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TrainerOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().Validate(
            o =>
            {
                try
                {
                    o.Validate();
                    return true;
                }
                catch (System.ComponentModel.DataAnnotations.ValidationException)
                {
                    return false;
                }
            },
            "TrainerOptions: InputSize must be a multiple of 32 and WarmupEpochs below Epochs.").ValidateOnStart();
        services.TryAddSingleton(sp => new KeypointTrainer(
            sp.GetRequiredService<IOptions<TrainerOptions>>().Value,
            sp.GetService<ILogger<KeypointTrainer>>()));
        return services;
    }
}
