using System.Globalization;
using FacialKeypoints.Data.Runtime;
using static TorchSharp.torch;

namespace FacialKeypoints.Data.Transforms;

/// <summary>
/// Per-channel input normalisation for RGB images with pixel values in [0, 1]: <c>(x - Mean[c]) / Std[c]</c>.
/// The weights of a network fix it, so it travels with them (checkpoint metadata, importer).
/// </summary>
public sealed class NormalizationSpec : IEquatable<NormalizationSpec>
{
    private readonly float[] mean;
    private readonly float[] std;

    /// <summary>Creates a specification.</summary>
    /// <param name="mean">Three channel means, R, G, B, in [0, 1] pixel units.</param>
    /// <param name="std">Three positive channel divisors, R, G, B.</param>
    /// <exception cref="ArgumentException">Not three values each, a value is not finite, or a divisor is not positive.</exception>
    public NormalizationSpec(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count != 3 || std.Count != 3)
        {
            throw new ArgumentException($"Expected three channel means and divisors, got {mean.Count} and {std.Count}.");
        }

        if (mean.Any(v => !float.IsFinite(v)) || std.Any(v => !float.IsFinite(v) || v <= 0))
        {
            throw new ArgumentException("Means must be finite and divisors finite and positive.");
        }

        this.mean = [.. mean];
        this.std = [.. std];
    }

    /// <summary>torchvision's ImageNet normalisation: mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    public static NormalizationSpec ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// The normalisation that the weights imported by <c>FacialKeypoints.Models.Import.ImageNetResNet18</c> expect: pixel values
    /// in 0-255 minus the channel means of ML.NET's mean image, without division. In [0, 1] units: mean
    /// (123.1516, 115.9029, 103.0626) / 255 for R, G, B and std 1/255.
    /// </summary>
    /// <remarks>
    /// The original model subtracts a per-pixel 224x224 mean image (ResNetPreprocess.onnx); it is replaced
    /// here by its per-channel averages (pixel standard deviation about 3 to 6 grey levels), so any input
    /// size works. The importer flips the first convolution to RGB order, so these values are in RGB order.
    /// </remarks>
    public static NormalizationSpec ImportedResNet18 { get; } = new(
        [123.15163f / 255f, 115.90288f / 255f, 103.06262f / 255f],
        [1f / 255f, 1f / 255f, 1f / 255f]);

    /// <summary>Channel means R, G, B, in [0, 1] pixel units.</summary>
    public IReadOnlyList<float> Mean => mean;

    /// <summary>Channel divisors R, G, B.</summary>
    public IReadOnlyList<float> Std => std;

    /// <summary>Normalises RGB images in [0, 1].</summary>
    /// <param name="images">Images <c>[B, 3, H, W]</c> or <c>[3, H, W]</c>, float; not disposed.</param>
    /// <returns>A new normalised tensor on the same device, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The channel dimension is not 3.</exception>
    public Tensor Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        TorchRuntime.EnsureInitialized();
        long channelDim = images.dim() - 3;
        if (channelDim < 0 || images.shape[channelDim] != 3)
        {
            throw new ArgumentException(
                $"Expected images [B, 3, H, W] or [3, H, W], got [{string.Join(", ", images.shape)}].", nameof(images));
        }

        using var m = tensor(mean, dtype: images.dtype, device: images.device).view(3, 1, 1);
        using var s = tensor(std, dtype: images.dtype, device: images.device).view(3, 1, 1);
        using var centred = images.sub(m);
        return centred.div(s);
    }

    /// <summary>
    /// Writes an 8-bit RGB image as normalised float planes (channel, row, column), the layout of one image of a
    /// <c>[B, 3, H, W]</c> tensor.
    /// </summary>
    /// <param name="image">The pixels.</param>
    /// <param name="destination">3 * width * height floats.</param>
    /// <exception cref="ArgumentException">The destination has the wrong length.</exception>
    public void WriteChannels(RgbImage image, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        int plane = image.Width * image.Height;
        if (destination.Length != 3 * plane)
        {
            throw new ArgumentException($"Expected {3 * plane} floats for a {image.Width}x{image.Height} image, got {destination.Length}.", nameof(destination));
        }

        var pixels = image.Pixels;
        for (int c = 0; c < 3; c++)
        {
            float scale = 1f / (255f * std[c]);
            float offset = mean[c] / std[c];
            var channel = destination.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++)
            {
                channel[p] = (pixels[(p * 3) + c] * scale) - offset;
            }
        }
    }

    /// <summary>The values as text, for example <c>mean=0.485,0.456,0.406 std=0.229,0.224,0.225</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"mean={FormatList(mean)} std={FormatList(std)}";

    /// <inheritdoc/>
    public bool Equals(NormalizationSpec? other) =>
        other is not null && mean.AsSpan().SequenceEqual(other.mean) && std.AsSpan().SequenceEqual(other.std);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NormalizationSpec);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(mean[0], mean[1], mean[2], std[0], std[1], std[2]);

    internal static string FormatList(IEnumerable<float> values) =>
        string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
