using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FacialKeypoints.Data;

/// <summary>Where the keypoint data lives and how it is read.</summary>
public sealed class KeypointDataOptions
{
    /// <summary>The folder with <c>training/</c>, <c>test/</c> and the <c>*_frames_keypoints.csv</c> files.</summary>
    [Required]
    public string Root { get; set; } = "../shared/data/facial-keypoints";

    /// <summary>The landmark scheme's name (<see cref="LandmarkScheme.FromName"/>).</summary>
    [Required]
    public string Scheme { get; set; } = "ibug68";

    /// <summary>What to do with rows that fail validation.</summary>
    public BadRowPolicy BadRows { get; set; } = BadRowPolicy.FailFast;
}

/// <summary>Opens the configured dataset's splits.</summary>
/// <param name="options">Where the data lives.</param>
public sealed class KeypointDataSource(IOptions<KeypointDataOptions> options)
{
    /// <summary>The configured landmark scheme.</summary>
    public LandmarkScheme Scheme { get; } = LandmarkScheme.FromName(options.Value.Scheme);

    /// <summary>Opens <c>training</c> or <c>test</c>.</summary>
    public KeypointDataset Open(string split) =>
        KeypointDataset.OpenSplit(options.Value.Root, split, new KeypointDatasetOptions { Scheme = Scheme, BadRows = options.Value.BadRows });
}
