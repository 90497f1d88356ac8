using FacialKeypoints.Data.Transforms;
using System.ComponentModel.DataAnnotations;
using FacialKeypoints.Data;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;

namespace FacialKeypoints.Models.Checkpoints;

/// <summary>
/// What a checkpoint says about its network and how to feed it. The caller gives the input size, normalisation,
/// landmark scheme and extra values; <see cref="KeypointCheckpoint.Save"/> fills the fields that describe the
/// network (<see cref="Architecture"/>, <see cref="Layout"/>, <see cref="KeypointCount"/>, <see cref="HeadKind"/>,
/// <see cref="HeadSettings"/>) and <see cref="LibraryVersion"/> and <see cref="Precision"/> from what it writes.
/// </summary>
public sealed record ModelMetadata
{
    /// <summary>The architecture name of a <see cref="KeypointNetwork"/>.</summary>
    public const string ResNet18Architecture = "resnet18";

    /// <summary>The network architecture; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public string Architecture { get; init; } = ResNet18Architecture;

    /// <summary>The backbone's blocks-per-stage layout; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public ResNet18Layout Layout { get; init; }

    /// <summary>Number of keypoints; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public int KeypointCount { get; init; }

    /// <summary>The head's <see cref="KeypointHead.Kind"/>; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public string HeadKind { get; init; } = ReferenceHead.HeadKind;

    /// <summary>The head's <see cref="KeypointHead.Settings"/>; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public IReadOnlyDictionary<string, string> HeadSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Input image height in pixels the network was trained at.</summary>
    [Range(32, 8192)]
    public int InputHeight { get; init; } = 224;

    /// <summary>Input image width in pixels the network was trained at.</summary>
    [Range(32, 8192)]
    public int InputWidth { get; init; } = 224;

    /// <summary>The input normalisation the weights expect.</summary>
    [Required]
    public NormalizationSpec Normalization { get; init; } = NormalizationSpec.ImageNet;

    /// <summary>The landmark scheme's name (for example <c>ibug68</c>), when known.</summary>
    public string? SchemeName { get; init; }

    /// <summary>The 0-based horizontal-flip permutation of the keypoints, when known (test-time flip averaging needs it).</summary>
    public IReadOnlyList<int>? FlipPermutation { get; init; }

    /// <summary>The FacialKeypoints.Models version that wrote the file; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public string? LibraryVersion { get; init; }

    /// <summary>How the weights are stored; set by <see cref="KeypointCheckpoint.Save"/>.</summary>
    public CheckpointPrecision Precision { get; init; }

    /// <summary>Any other string values (training settings, data set, metrics). Keys must not start with <c>fkp.</c>.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>Metadata for a network trained on a landmark scheme: its name and flip permutation.</summary>
    /// <param name="scheme">The landmark scheme.</param>
    /// <param name="inputSize">Square input size in pixels.</param>
    /// <param name="normalization">The input normalisation.</param>
    /// <returns>The metadata.</returns>
    public static ModelMetadata ForScheme(LandmarkScheme scheme, int inputSize, NormalizationSpec normalization)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(normalization);
        return new ModelMetadata
        {
            KeypointCount = scheme.Count,
            InputHeight = inputSize,
            InputWidth = inputSize,
            Normalization = normalization,
            SchemeName = scheme.Name,
            FlipPermutation = scheme.FlipPermutation,
        };
    }
}
