using FacialKeypoints.Data.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Backbones;

/// <summary>
/// ResNet's basic residual block: two 3x3 convolutions with batch norm, plus the input (through a 1x1
/// strided convolution and batch norm when the shape changes). Parameter names follow torchvision:
/// <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>downsample.0</c>, <c>downsample.1</c>.
/// </summary>
internal sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    /// <summary>Creates a block.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="stride">Stride of the first convolution (1, or 2 to halve the spatial size).</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count or the stride is not positive.</exception>
    public BasicBlock(int inChannels, int outChannels, int stride = 1)
        : base(nameof(BasicBlock))
    {
        TorchRuntime.EnsureInitialized();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);

        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        conv1 = nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
        {
            downsample = nn.Sequential(
                nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, bias: false),
                nn.BatchNorm2d(outChannels));
        }

        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public int OutChannels { get; }

    /// <summary>Stride of the first convolution.</summary>
    public int Stride { get; }

    /// <summary>Whether the shortcut has a projection (<c>downsample</c>) instead of the identity.</summary>
    public bool HasDownsample => downsample is not null;

    /// <summary>Runs the block on <c>[B, InChannels, H, W]</c>; returns <c>[B, OutChannels, H/stride, W/stride]</c>.</summary>
    /// <param name="input">The feature map; not disposed.</param>
    /// <returns>The block's output, owned by the caller.</returns>
    public override Tensor forward(Tensor input)
    {
        using var a = conv1.call(input);
        using var b = bn1.call(a);
        using var c = nn.functional.relu(b);
        using var d = conv2.call(c);
        using var e = bn2.call(d);
        if (downsample is null)
        {
            using var sum = e.add(input);
            return nn.functional.relu(sum);
        }

        using var shortcut = downsample.call(input);
        using var projected = e.add(shortcut);
        return nn.functional.relu(projected);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            downsample?.Dispose();
        }

        base.Dispose(disposing);
    }
}
