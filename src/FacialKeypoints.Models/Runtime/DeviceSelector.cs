using FacialKeypoints.Data.Runtime;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Runtime;

/// <summary>Turns a device name from configuration into a TorchSharp device.</summary>
public static class DeviceSelector
{
    /// <summary>The name that picks CUDA when it is available and the CPU otherwise.</summary>
    public const string Auto = "auto";

    /// <summary>
    /// Resolves <c>cpu</c>, <c>cuda</c> (or <c>cuda:N</c>) and <c>auto</c> (CUDA only when
    /// <c>torch.cuda.is_available()</c>); null or empty means <c>auto</c>. Case is ignored.
    /// </summary>
    /// <param name="name">The device name.</param>
    /// <returns>The device.</returns>
    /// <exception cref="ArgumentException">The name is not one of the accepted forms.</exception>
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not available.</exception>
    public static Device Resolve(string? name)
    {
        TorchRuntime.EnsureInitialized();
        string normalised = (name ?? string.Empty).Trim().ToLowerInvariant();
        if (normalised.Length == 0 || normalised == Auto)
        {
            return cuda.is_available() ? CUDA : CPU;
        }

        if (normalised == "cpu")
        {
            return CPU;
        }

        if (normalised == "cuda" || normalised.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (normalised.Length > 4 && !int.TryParse(normalised.AsSpan(5), out index))
            {
                throw new ArgumentException($"'{name}' is not a device name; use cpu, cuda, cuda:N or auto.", nameof(name));
            }

            if (!cuda.is_available())
            {
                throw new InvalidOperationException(
                    $"Device '{name}' was requested but CUDA is not available: no GPU, or the application references a CPU-only libtorch (libtorch-cpu-linux-x64, TorchSharp-cpu). On a GPU machine reference TorchSharp-cuda-linux or TorchSharp-cuda-windows (the same TorchSharp version) instead.");
            }

            if (index < 0 || index >= cuda.device_count())
            {
                throw new InvalidOperationException($"Device '{name}' was requested but there are {cuda.device_count()} CUDA devices.");
            }

            return new Device(TorchSharp.DeviceType.CUDA, index);
        }

        throw new ArgumentException($"'{name}' is not a device name; use cpu, cuda, cuda:N or auto.", nameof(name));
    }
}
