using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Heads;

/// <summary>
/// The reference PyTorch pipeline's head: <c>Linear(F, hidden)</c>, ReLU, <c>Dropout(p)</c>,
/// <c>Linear(hidden, 2K)</c>. Parameters are named <c>hidden.*</c> and <c>output.*</c>.
/// </summary>
public sealed class ReferenceHead : KeypointHead
{
    /// <summary>The <see cref="KeypointHead.Kind"/> of this head.</summary>
    public const string HeadKind = "reference";

    /// <summary>Settings key of the hidden width.</summary>
    public const string HiddenFeaturesKey = "hidden_features";

    /// <summary>Settings key of the dropout probability.</summary>
    public const string DropoutKey = "dropout";

    private readonly Linear hidden;
    private readonly Dropout dropout;
    private readonly Linear output;

    /// <summary>Creates the head.</summary>
    /// <param name="inFeatures">Width of the backbone features (512 for ResNet-18).</param>
    /// <param name="keypointCount">Number of keypoints.</param>
    /// <param name="options">Hidden width and dropout; defaults when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The options are out of range.</exception>
    public ReferenceHead(int inFeatures, int keypointCount, ReferenceHeadOptions? options = null)
        : base(nameof(ReferenceHead), inFeatures, keypointCount)
    {
        options ??= new ReferenceHeadOptions();
        options.Validate();
        HiddenFeatures = options.HiddenFeatures;
        DropoutProbability = options.Dropout;
        hidden = nn.Linear(inFeatures, HiddenFeatures);
        dropout = nn.Dropout(DropoutProbability);
        output = nn.Linear(HiddenFeatures, OutFeatures);
        Settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [HiddenFeaturesKey] = HiddenFeatures.ToString(CultureInfo.InvariantCulture),
            [DropoutKey] = DropoutProbability.ToString("R", CultureInfo.InvariantCulture),
        };
        RegisterComponents();
    }

    /// <summary>Width of the hidden layer.</summary>
    public int HiddenFeatures { get; }

    /// <summary>Dropout probability after the hidden layer.</summary>
    public double DropoutProbability { get; }

    /// <inheritdoc/>
    public override string Kind => HeadKind;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Rebuilds options from stored <see cref="KeypointHead.Settings"/>; missing keys take defaults.</summary>
    /// <param name="settings">The stored settings.</param>
    /// <returns>The options.</returns>
    /// <exception cref="FormatException">A value is not a number.</exception>
    public static ReferenceHeadOptions OptionsFromSettings(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new ReferenceHeadOptions();
        if (settings.TryGetValue(HiddenFeaturesKey, out string? width))
        {
            options.HiddenFeatures = int.Parse(width, NumberStyles.Integer, CultureInfo.InvariantCulture);
        }

        if (settings.TryGetValue(DropoutKey, out string? p))
        {
            options.Dropout = double.Parse(p, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return options;
    }

    /// <summary>Maps features <c>[B, InFeatures]</c> to keypoints <c>[B, 2K]</c>.</summary>
    /// <param name="input">The features; not disposed.</param>
    /// <returns>The keypoints, owned by the caller.</returns>
    public override Tensor forward(Tensor input)
    {
        using var a = hidden.call(input);
        using var b = nn.functional.relu(a);
        using var c = dropout.call(b);
        return output.call(c);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            hidden.Dispose();
            dropout.Dispose();
            output.Dispose();
        }

        base.Dispose(disposing);
    }
}
