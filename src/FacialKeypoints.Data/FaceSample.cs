namespace FacialKeypoints.Data;

/// <summary>Where a sample came from.</summary>
/// <param name="Index">Position in the dataset it was loaded from.</param>
/// <param name="Name">The image file name.</param>
/// <param name="Identity">The person: the file name without <c>_NN.jpg</c>.</param>
/// <param name="OriginalWidth">Width of the image file in pixels.</param>
/// <param name="OriginalHeight">Height of the image file in pixels.</param>
public sealed record SampleInfo(int Index, string Name, string Identity, int OriginalWidth, int OriginalHeight)
{
    /// <summary>The number of the <see cref="MixedFaceDataset"/> source the sample was drawn from (0 outside a mix).</summary>
    public int Source { get; init; }

    /// <summary>
    /// The identity encoded in a Udacity / YouTube Faces file name: <c>Ed_Smart_51.jpg</c> gives <c>Ed_Smart</c>.
    /// A name without the <c>_NN</c> suffix is its own identity (without extension).
    /// </summary>
    public static string IdentityOf(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        string stem = Path.GetFileNameWithoutExtension(fileName);
        int underscore = stem.LastIndexOf('_');
        return underscore > 0 && underscore < stem.Length - 1 && stem[(underscore + 1)..].All(char.IsAsciiDigit)
            ? stem[..underscore]
            : stem;
    }
}

/// <summary>
/// An image with its keypoints, as it moves through transforms. Keypoints are flat (x0, y0, x1, y1, ...) in the
/// pixel frame of <see cref="Image"/>, with pixel centres at whole numbers: (0, 0) is the centre of the top-left
/// pixel. Samples are immutable: transforms return new ones.
/// </summary>
/// <param name="Image">The pixels.</param>
/// <param name="Keypoints">2 * point-count values in <paramref name="Image"/>'s pixels.</param>
/// <param name="Info">Where the sample came from.</param>
public sealed record FaceSample(RgbImage Image, float[] Keypoints, SampleInfo Info)
{
    /// <summary>Number of landmarks.</summary>
    public int PointCount => Keypoints.Length / 2;
}
