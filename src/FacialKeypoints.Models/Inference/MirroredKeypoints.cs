using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Inference;

/// <summary>Maps a prediction made on mirrored images back to the original images' frame.</summary>
public static class MirroredKeypoints
{
    /// <summary>
    /// Takes normalised keypoints <c>[B, 2K]</c> predicted for horizontally mirrored images and returns them in the
    /// unmirrored frame: x negated (in [-1, 1] a flip is x -> -x) and points swapped by the flip permutation.
    /// </summary>
    /// <param name="mirrored">The prediction on mirrored images; not disposed.</param>
    /// <param name="flipPermutation">0-based: point <c>i</c> becomes point <c>flipPermutation[i]</c> under a flip.</param>
    /// <returns>A new tensor <c>[B, 2K]</c> on the same device, owned by the caller.</returns>
    public static Tensor Unmirror(Tensor mirrored, IReadOnlyList<int> flipPermutation)
    {
        ArgumentNullException.ThrowIfNull(mirrored);
        ArgumentNullException.ThrowIfNull(flipPermutation);
        using var scope = torch.NewDisposeScope();
        var points = mirrored.view(mirrored.shape[0], flipPermutation.Count, 2);
        var index = torch.tensor(flipPermutation.Select(i => (long)i).ToArray(), device: mirrored.device);
        var sign = torch.tensor(new float[] { -1f, 1f }, device: mirrored.device);
        return (points.index_select(1, index) * sign).view(mirrored.shape).MoveToOuterDisposeScope();
    }
}
