using FacialKeypoints.Data.Runtime;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Heads;

/// <summary>
/// A regression head: maps pooled backbone features <c>[B, InFeatures]</c> to keypoint coordinates
/// <c>[B, 2 * KeypointCount]</c>, interleaved as x0, y0, x1, y1, ... and normalised to [-1, 1].
/// Subclass it to plug a custom head into a <see cref="KeypointNetwork"/>.
/// </summary>
/// <remarks>
/// A subclass follows the usual module rules: submodules in <c>private readonly</c> fields, a call to
/// <c>RegisterComponents()</c> at the end of its constructor, children disposed in <c>Dispose(bool)</c>.
/// <see cref="Kind"/> and <see cref="Settings"/> are written into checkpoints so a loader can rebuild the head.
/// </remarks>
public abstract class KeypointHead : nn.Module<Tensor, Tensor>
{
    /// <summary>Initialises the head's description.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="inFeatures">Width of the features the head reads.</param>
    /// <param name="keypointCount">Number of keypoints it predicts.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive.</exception>
    protected KeypointHead(string name, int inFeatures, int keypointCount)
        : base(name)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keypointCount);
        InFeatures = inFeatures;
        KeypointCount = keypointCount;
    }

    /// <summary>Width of the features the head reads.</summary>
    public int InFeatures { get; }

    /// <summary>Number of keypoints the head predicts.</summary>
    public int KeypointCount { get; }

    /// <summary>Width of the output: two coordinates per keypoint.</summary>
    public int OutFeatures => 2 * KeypointCount;

    /// <summary>A short stable name of the head type, stored in checkpoints (for example <c>reference</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// Whether the head reads the backbone's final feature map <c>[B, InFeatures, H/32, W/32]</c> instead of the
    /// pooled features <c>[B, InFeatures]</c>. False unless a subclass says otherwise.
    /// </summary>
    public virtual bool ReadsFeatureMap => false;

    /// <summary>The hyperparameters that rebuild this head, stored in checkpoints as text.</summary>
    public virtual IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();
}
