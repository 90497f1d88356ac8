using System.Globalization;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Heads;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Extending;

// <custom-head>
/// <summary>
/// <c>Linear(F, hidden)</c>, <c>LayerNorm(hidden)</c>, GELU, <c>Linear(hidden, 2K)</c>. Layer norm normalises each
/// sample on its own, so the head behaves the same at batch size 1 as at 64.
/// </summary>
public sealed class LayerNormHead : KeypointHead
{
    /// <summary>The <see cref="KeypointHead.Kind"/> written into checkpoints.</summary>
    public const string HeadKind = "layernorm-mlp";

    /// <summary>Settings key of the hidden width.</summary>
    public const string HiddenFeaturesKey = "hidden_features";

    private readonly Linear hidden;
    private readonly LayerNorm norm;
    private readonly Linear output;

    /// <summary>Creates the head.</summary>
    /// <param name="inFeatures">Width of the backbone features (512 for ResNet-18).</param>
    /// <param name="keypointCount">Number of keypoints.</param>
    /// <param name="hiddenFeatures">Width of the hidden layer.</param>
    public LayerNormHead(int inFeatures, int keypointCount, int hiddenFeatures = 256)
        : base(nameof(LayerNormHead), inFeatures, keypointCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenFeatures);
        HiddenFeatures = hiddenFeatures;
        hidden = nn.Linear(inFeatures, hiddenFeatures);
        norm = nn.LayerNorm(hiddenFeatures);
        output = nn.Linear(hiddenFeatures, OutFeatures);
        Settings = new Dictionary<string, string>
        {
            [HiddenFeaturesKey] = hiddenFeatures.ToString(CultureInfo.InvariantCulture),
        };
        RegisterComponents();
    }

    /// <summary>Width of the hidden layer.</summary>
    public int HiddenFeatures { get; }

    /// <inheritdoc/>
    public override string Kind => HeadKind;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Rebuilds the head a checkpoint describes: the head factory for <see cref="KeypointCheckpoint.Load(string, Func{ModelMetadata, KeypointHead})"/>.</summary>
    /// <exception cref="ModelFormatException">The checkpoint holds another kind of head.</exception>
    public static KeypointHead FromMetadata(ModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.HeadKind != HeadKind)
        {
            throw new ModelFormatException($"The checkpoint's head is '{metadata.HeadKind}', not '{HeadKind}'.");
        }

        int hiddenFeatures = int.Parse(metadata.HeadSettings[HiddenFeaturesKey], CultureInfo.InvariantCulture);
        return new LayerNormHead(ResNet18Backbone.FeatureCount, metadata.KeypointCount, hiddenFeatures);
    }

    /// <summary>Maps features <c>[B, F]</c> to keypoints <c>[B, 2K]</c> in [-1, 1].</summary>
    public override Tensor forward(Tensor input)
    {
        using var a = hidden.call(input);
        using var b = norm.call(a);
        using var c = nn.functional.gelu(b);
        return output.call(c);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hidden.Dispose();
            norm.Dispose();
            output.Dispose();
        }

        base.Dispose(disposing);
    }
}
// </custom-head>
