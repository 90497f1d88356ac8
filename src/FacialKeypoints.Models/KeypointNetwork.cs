using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;
using static TorchSharp.torch;

namespace FacialKeypoints.Models;

/// <summary>
/// A facial keypoint regressor: a <see cref="ResNet18Backbone"/> followed by a <see cref="KeypointHead"/>.
/// Its forward pass maps normalised images <c>[B, 3, H, W]</c> to keypoints <c>[B, 2K]</c>, interleaved as
/// x0, y0, x1, y1, ... and normalised to [-1, 1]. Parameters are named <c>backbone.*</c> and <c>head.*</c>.
/// </summary>
public sealed class KeypointNetwork : nn.Module<Tensor, Tensor>
{
    private readonly ResNet18Backbone backbone;
    private readonly KeypointHead head;

    /// <summary>Creates a network with a new backbone and a <see cref="ReferenceHead"/>.</summary>
    /// <param name="keypointCount">Number of keypoints (the landmark scheme's point count).</param>
    /// <param name="layout">The backbone's blocks-per-stage layout.</param>
    /// <param name="headOptions">The head's hidden width and dropout; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keypointCount"/> is not positive.</exception>
    public KeypointNetwork(int keypointCount, ResNet18Layout layout = ResNet18Layout.Standard, ReferenceHeadOptions? headOptions = null)
        : this(CreateParts(keypointCount, layout, headOptions))
    {
    }

    private KeypointNetwork((ResNet18Backbone Backbone, KeypointHead Head) parts)
        : this(parts.Backbone, parts.Head)
    {
    }

    /// <summary>Creates a network from a backbone and a head; the network owns and disposes both.</summary>
    /// <param name="backbone">The feature extractor.</param>
    /// <param name="head">The regression head; its <see cref="KeypointHead.InFeatures"/> must equal the backbone's output width.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The head reads a different feature width than the backbone gives.</exception>
    public KeypointNetwork(ResNet18Backbone backbone, KeypointHead head)
        : base(nameof(KeypointNetwork))
    {
        TorchRuntime.EnsureInitialized();
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(head);
        if (head.InFeatures != backbone.OutFeatures)
        {
            throw new ArgumentException(
                $"The head reads {head.InFeatures} features but the backbone gives {backbone.OutFeatures}.", nameof(head));
        }

        this.backbone = backbone;
        this.head = head;
        RegisterComponents();
    }

    /// <summary>The feature extractor.</summary>
    public ResNet18Backbone Backbone => backbone;

    /// <summary>The regression head.</summary>
    public KeypointHead Head => head;

    /// <summary>Number of keypoints predicted.</summary>
    public int KeypointCount => head.KeypointCount;

    /// <summary>Width of the pooled backbone features.</summary>
    public int FeatureCount => backbone.OutFeatures;

    /// <summary>Predicts keypoints.</summary>
    /// <param name="input">Normalised images <c>[B, 3, H, W]</c>, H and W multiples of 32; not disposed.</param>
    /// <returns>Keypoints <c>[B, 2K]</c> in [-1, 1], owned by the caller.</returns>
    public override Tensor forward(Tensor input)
    {
        using var features = head.ReadsFeatureMap ? backbone.FeatureMap(input) : backbone.call(input);
        return head.call(features);
    }

    /// <summary>The pooled backbone features, for tasks that reuse the trained backbone (for example expression classification).</summary>
    /// <param name="images">Normalised images <c>[B, 3, H, W]</c>; not disposed.</param>
    /// <returns>Features <c>[B, 512]</c>, owned by the caller.</returns>
    public Tensor Features(Tensor images) => backbone.call(images);

    /// <summary>Predicts keypoints and returns the features they were computed from, in one pass.</summary>
    /// <param name="images">Normalised images <c>[B, 3, H, W]</c>; not disposed.</param>
    /// <returns>Keypoints <c>[B, 2K]</c> and features <c>[B, 512]</c>, both owned by the caller.</returns>
    public (Tensor Keypoints, Tensor Features) ForwardWithFeatures(Tensor images)
    {
        if (head.ReadsFeatureMap)
        {
            using var map = backbone.FeatureMap(images);
            using var pooled = nn.functional.adaptive_avg_pool2d(map, 1);
            var keypoints = head.call(map);
            return (keypoints, pooled.flatten(1));
        }

        var features = backbone.call(images);
        try
        {
            return (head.call(features), features);
        }
        catch
        {
            features.Dispose();
            throw;
        }
    }

    private static (ResNet18Backbone, KeypointHead) CreateParts(int keypointCount, ResNet18Layout layout, ReferenceHeadOptions? headOptions)
    {
        // The head first: its arguments are validated before the backbone allocates native memory.
        var head = new ReferenceHead(ResNet18Backbone.FeatureCount, keypointCount, headOptions);
        try
        {
            return (new ResNet18Backbone(layout), head);
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            head.Dispose();
        }

        base.Dispose(disposing);
    }
}
