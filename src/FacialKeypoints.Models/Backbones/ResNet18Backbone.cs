using FacialKeypoints.Data.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Backbones;

/// <summary>
/// A ResNet-18 feature extractor whose parameter and buffer names match torchvision's <c>resnet18</c>
/// (<c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c>, ..., <c>layer2.0.downsample.0</c>, ...) without the
/// classifier <c>fc</c>. It maps images <c>[B, 3, H, W]</c> to global-average-pooled features <c>[B, 512]</c>.
/// </summary>
/// <remarks>
/// Any input whose height and width are multiples of 32 works; the pooling adapts to the final map size.
/// </remarks>
public sealed class ResNet18Backbone : nn.Module<Tensor, Tensor>
{
    /// <summary>The width of the pooled feature vector.</summary>
    public const int FeatureCount = 512;

    private static readonly int[] StageChannels = [64, 128, 256, 512];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <summary>Creates a backbone with freshly initialised weights (Kaiming-uniform convolutions, unit batch norm).</summary>
    /// <param name="layout">Blocks per stage: torchvision's [2, 2, 2, 2] or the imported ImageNet model's [2, 2, 2, 3].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layout"/> is not a defined value.</exception>
    public ResNet18Backbone(ResNet18Layout layout = ResNet18Layout.Standard)
        : base(nameof(ResNet18Backbone))
    {
        TorchRuntime.EnsureInitialized();
        var blocks = layout.GetBlocksPerStage();
        Layout = layout;

        conv1 = nn.Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(64);
        maxpool = nn.MaxPool2d(kernel_size: 3, stride: 2, padding: 1);
        layer1 = MakeStage(64, StageChannels[0], blocks[0], stride: 1);
        layer2 = MakeStage(StageChannels[0], StageChannels[1], blocks[1], stride: 2);
        layer3 = MakeStage(StageChannels[1], StageChannels[2], blocks[2], stride: 2);
        layer4 = MakeStage(StageChannels[2], StageChannels[3], blocks[3], stride: 2);
        RegisterComponents();
    }

    /// <summary>The blocks-per-stage layout.</summary>
    public ResNet18Layout Layout { get; }

    /// <summary>The width of the output features (512).</summary>
    public int OutFeatures => FeatureCount;

    /// <summary>Runs the backbone.</summary>
    /// <param name="input">Normalised images <c>[B, 3, H, W]</c>, H and W multiples of 32; not disposed.</param>
    /// <returns>Pooled features <c>[B, 512]</c>, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The input is not a 4-D tensor with three channels.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3)
        {
            throw new ArgumentException(
                $"Expected images [B, 3, H, W], got [{string.Join(", ", input.shape)}].", nameof(input));
        }

        using var stem = StemAndStages(input);
        using var pooled = nn.functional.adaptive_avg_pool2d(stem, 1);
        return pooled.flatten(1);
    }

    /// <summary>Runs everything but the pooling: the final feature map <c>[B, 512, H/32, W/32]</c>.</summary>
    /// <param name="input">Normalised images <c>[B, 3, H, W]</c>; not disposed.</param>
    /// <returns>The final feature map, owned by the caller.</returns>
    public Tensor FeatureMap(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return StemAndStages(input);
    }

    /// <summary>Runs the stem and the first <paramref name="stages"/> stages: with 3, the layer3 map <c>[B, 256, H/16, W/16]</c>.</summary>
    /// <param name="input">Normalised images <c>[B, 3, H, W]</c>; not disposed.</param>
    /// <param name="stages">How many of the four stages to run, 1 to 4.</param>
    /// <returns>The last stage's feature map, owned by the caller.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stages"/> is outside 1..4.</exception>
    public Tensor FeatureMap(Tensor input, int stages)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, 4);
        if (stages == 4)
        {
            return StemAndStages(input);
        }

        using var a = conv1.call(input);
        using var b = bn1.call(a);
        using var c = nn.functional.relu(b);
        using var d = maxpool.call(c);
        if (stages == 1)
        {
            return layer1.call(d);
        }

        using var e = layer1.call(d);
        if (stages == 2)
        {
            return layer2.call(e);
        }

        using var f = layer2.call(e);
        return layer3.call(f);
    }

    /// <summary>The modules of stage <paramref name="stage"/> (1 to 4: layer1 to layer4), for freezing or per-stage learning rates.</summary>
    /// <param name="stage">The stage number.</param>
    /// <returns>The stage's module, owned by this backbone.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stage"/> is outside 1..4.</exception>
    public nn.Module<Tensor, Tensor> Stage(int stage) => stage switch
    {
        1 => layer1,
        2 => layer2,
        3 => layer3,
        4 => layer4,
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "Stages are numbered 1 to 4."),
    };

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            maxpool.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            layer4.Dispose();
        }

        base.Dispose(disposing);
    }

    private static Sequential MakeStage(int inChannels, int outChannels, int blockCount, int stride)
    {
        var blocks = new nn.Module<Tensor, Tensor>[blockCount];
        for (int i = 0; i < blockCount; i++)
        {
            blocks[i] = i == 0
                ? new BasicBlock(inChannels, outChannels, stride)
                : new BasicBlock(outChannels, outChannels, 1);
        }

        return nn.Sequential(blocks);
    }

    private Tensor StemAndStages(Tensor input)
    {
        using var a = conv1.call(input);
        using var b = bn1.call(a);
        using var c = nn.functional.relu(b);
        using var d = maxpool.call(c);
        using var e = layer1.call(d);
        using var f = layer2.call(e);
        using var g = layer3.call(f);
        return layer4.call(g);
    }
}
