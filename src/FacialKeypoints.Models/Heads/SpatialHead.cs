using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Heads;

/// <summary>
/// A head that keeps the backbone's spatial layout: a 1x1 convolution reduces the final feature map
/// <c>[B, InFeatures, G, G]</c> to a few channels (batch-normalised, ReLU), and one linear layer maps every cell of
/// every channel to the keypoints. Unlike the <see cref="ReferenceHead"/>, which sees features averaged over the
/// image, it can tell where in the image a feature fired, which fine shape (how wide a mouth is) needs.
/// Parameters are named <c>reduce.*</c>, <c>norm.*</c> and <c>output.*</c>.
/// </summary>
/// <remarks>The grid side is the input side over 32 (5 for 160 px); the head only reads maps of that size.</remarks>
public sealed class SpatialHead : KeypointHead
{
    /// <summary>The <see cref="KeypointHead.Kind"/> of this head.</summary>
    public const string HeadKind = "spatial";

    /// <summary>Settings key of the reduced channel count.</summary>
    public const string ChannelsKey = "channels";

    /// <summary>Settings key of the grid side.</summary>
    public const string GridKey = "grid";

    private readonly Conv2d reduce;
    private readonly BatchNorm2d norm;
    private readonly Linear output;

    /// <summary>Creates the head.</summary>
    /// <param name="inFeatures">Channels of the backbone's final map (512 for ResNet-18).</param>
    /// <param name="keypointCount">Number of keypoints.</param>
    /// <param name="grid">Side of the map: the input side over 32.</param>
    /// <param name="channels">Channels after the 1x1 reduction.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive.</exception>
    public SpatialHead(int inFeatures, int keypointCount, int grid, int channels = 64)
        : base(nameof(SpatialHead), inFeatures, keypointCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(grid);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        Grid = grid;
        Channels = channels;
        reduce = nn.Conv2d(inFeatures, channels, 1, bias: false);
        norm = nn.BatchNorm2d(channels);
        output = nn.Linear(channels * grid * grid, OutFeatures);
        Settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ChannelsKey] = channels.ToString(CultureInfo.InvariantCulture),
            [GridKey] = grid.ToString(CultureInfo.InvariantCulture),
        };
        RegisterComponents();
    }

    /// <summary>Side of the feature map the head reads.</summary>
    public int Grid { get; }

    /// <summary>Channels after the 1x1 reduction.</summary>
    public int Channels { get; }

    /// <inheritdoc/>
    public override string Kind => HeadKind;

    /// <inheritdoc/>
    public override bool ReadsFeatureMap => true;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Builds the head stored in a checkpoint's settings.</summary>
    /// <param name="inFeatures">Channels of the backbone's final map.</param>
    /// <param name="keypointCount">Number of keypoints.</param>
    /// <param name="settings">The stored settings (<see cref="GridKey"/> required, <see cref="ChannelsKey"/> optional).</param>
    /// <returns>The head.</returns>
    /// <exception cref="FormatException">A setting is missing or not a number.</exception>
    public static SpatialHead FromSettings(int inFeatures, int keypointCount, IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.TryGetValue(GridKey, out string? grid))
        {
            throw new FormatException($"the spatial head has no '{GridKey}' setting.");
        }

        int channels = settings.TryGetValue(ChannelsKey, out string? c) ? int.Parse(c, NumberStyles.Integer, CultureInfo.InvariantCulture) : 64;
        return new SpatialHead(inFeatures, keypointCount, int.Parse(grid, NumberStyles.Integer, CultureInfo.InvariantCulture), channels);
    }

    /// <summary>Maps a feature map <c>[B, InFeatures, Grid, Grid]</c> to keypoints <c>[B, 2K]</c>.</summary>
    /// <param name="input">The map; not disposed.</param>
    /// <returns>The keypoints, owned by the caller.</returns>
    /// <exception cref="ArgumentException">The map is not <c>[B, InFeatures, Grid, Grid]</c>.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != InFeatures || input.shape[2] != Grid || input.shape[3] != Grid)
        {
            throw new ArgumentException(
                $"The spatial head reads maps [B, {InFeatures}, {Grid}, {Grid}] (input {32 * Grid} px), got [{string.Join(", ", input.shape)}].", nameof(input));
        }

        using var a = reduce.call(input);
        using var b = norm.call(a);
        using var c = nn.functional.relu(b);
        using var d = c.flatten(1);
        return output.call(d);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            reduce.Dispose();
            norm.Dispose();
            output.Dispose();
        }

        base.Dispose(disposing);
    }
}
