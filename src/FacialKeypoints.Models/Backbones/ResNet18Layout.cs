namespace FacialKeypoints.Models.Backbones;

/// <summary>How many residual blocks each of the four stages of a <see cref="ResNet18Backbone"/> holds.</summary>
public enum ResNet18Layout
{
    /// <summary>torchvision's ResNet-18: two basic blocks in every stage, [2, 2, 2, 2].</summary>
    Standard = 0,

    /// <summary>
    /// The layout of the CNTK ImageNet ResNet-18 that ML.NET ships: a third 512-channel block
    /// (<c>layer4.2</c>), [2, 2, 2, 3].
    /// </summary>
    ExtraFinalBlock = 1,
}

/// <summary>Helpers for <see cref="ResNet18Layout"/>.</summary>
public static class ResNet18LayoutExtensions
{
    private static readonly int[] StandardBlocks = [2, 2, 2, 2];
    private static readonly int[] ExtraFinalBlocks = [2, 2, 2, 3];

    /// <summary>The number of basic blocks in each of the four stages.</summary>
    /// <param name="layout">The layout.</param>
    /// <returns>Four block counts, for <c>layer1</c> to <c>layer4</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined layout.</exception>
    public static IReadOnlyList<int> GetBlocksPerStage(this ResNet18Layout layout) => layout switch
    {
        ResNet18Layout.Standard => StandardBlocks,
        ResNet18Layout.ExtraFinalBlock => ExtraFinalBlocks,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown ResNet-18 layout."),
    };

    /// <summary>The layout as block counts joined by commas, for example <c>2,2,2,2</c>.</summary>
    /// <param name="layout">The layout.</param>
    /// <returns>The text form that <see cref="ParseBlocksPerStage"/> reads back.</returns>
    public static string ToBlocksText(this ResNet18Layout layout) => string.Join(",", layout.GetBlocksPerStage());

    /// <summary>Reads a layout from its block counts, for example <c>2,2,2,3</c>.</summary>
    /// <param name="text">Four comma-separated block counts.</param>
    /// <returns>The matching layout.</returns>
    /// <exception cref="FormatException">The text names no supported layout.</exception>
    public static ResNet18Layout ParseBlocksPerStage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string compact = text.Replace(" ", string.Empty, StringComparison.Ordinal);
        foreach (var layout in Enum.GetValues<ResNet18Layout>())
        {
            if (string.Equals(layout.ToBlocksText(), compact, StringComparison.Ordinal))
            {
                return layout;
            }
        }

        throw new FormatException($"'{text}' is not a supported ResNet-18 layout (2,2,2,2 or 2,2,2,3).");
    }
}
