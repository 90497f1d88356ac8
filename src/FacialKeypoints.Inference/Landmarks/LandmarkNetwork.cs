using System.Globalization;
using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference.Landmarks;

/// <summary>
/// The landmark network on ONNX Runtime. Each face region (in the training framing, see <see cref="FaceRegions"/>)
/// is resampled once onto the network's square input — non-uniformly, as the network was trained — normalised as
/// the model's metadata says, and all faces of a frame (and their mirrored copies, with flip averaging) run as one
/// batch. The outputs, in [-1, 1] over the input, are mapped back to image pixels. Thread-safe.
/// </summary>
internal sealed class LandmarkNetwork : IDisposable
{
    /// <summary>The smallest input side accepted from a model's metadata.</summary>
    internal const int MinSize = 8;

    /// <summary>The largest input side accepted from a model's metadata.</summary>
    internal const int MaxSize = 4096;

    private readonly OnnxNetwork network;
    private readonly float[] mean;
    private readonly float[] std;
    private readonly int[] flipPermutation;

    public LandmarkNetwork(OnnxNetwork network)
    {
        // Every value is checked here, once: a malformed one is an InvalidDataException naming the file and the key,
        // never a wrong answer (or an IndexOutOfRangeException) at the first prediction.
        this.network = network;
        Size = network.RequireInt("fkp.input_width", MinSize, MaxSize);
        if (network.RequireInt("fkp.input_height", MinSize, MaxSize) != Size)
        {
            throw new InvalidDataException($"{network.Source}: the landmark network must take a square input (metadata 'fkp.input_width' {Size}, 'fkp.input_height' {network.Require("fkp.input_height")}).");
        }

        mean = network.RequireFloats("fkp.normalization.mean", 3);
        std = network.RequirePositiveFloats("fkp.normalization.std", 3);
        int count = network.RequireInt("fkp.keypoint_count", 1, 100_000);
        string schemeName = network.Metadata.TryGetValue("fkp.scheme", out var named) ? named : "ibug68";
        try
        {
            Scheme = LandmarkScheme.FromName(schemeName);
        }
        catch (ArgumentException e)
        {
            throw network.Invalid("fkp.scheme", schemeName, "a known landmark scheme", e);
        }

        if (Scheme.Count != count)
        {
            throw network.Invalid("fkp.keypoint_count", count.ToString(CultureInfo.InvariantCulture), $"{Scheme.Count}, the point count of scheme '{schemeName}'");
        }

        flipPermutation = network.Metadata.TryGetValue("fkp.flip_permutation", out var flip)
            ? ParsePermutation(network, flip, Scheme.Count)
            : [.. Scheme.FlipPermutation];
        Precision = network.Metadata.TryGetValue("fkp.precision", out var precision) ? precision : "float32";
    }

    /// <summary>The square input size in pixels.</summary>
    public int Size { get; }

    /// <summary>The landmark scheme the network predicts.</summary>
    public LandmarkScheme Scheme { get; }

    /// <summary>The precision the model's metadata states (float32, int8).</summary>
    public string Precision { get; }

    /// <summary>Predicts the landmarks in each region of <paramref name="image"/>; flat image-pixel (x, y) pairs per region.</summary>
    public float[][] Predict(WarpSource image, IReadOnlyList<FaceBox> regions, bool flipAverage)
    {
        if (regions.Count == 0)
        {
            return [];
        }

        int plane = 3 * Size * Size, faces = regions.Count, batch = flipAverage ? 2 * faces : faces;
        var input = new float[batch * plane];
        var maps = new AffineMatrix[faces];
        Parallel.For(0, faces, i =>
        {
            maps[i] = CropMatrix(regions[i]);
            var crop = image.Warp(Size, Size, maps[i]);
            PixelTensor.WritePlanar(crop, input.AsSpan(i * plane, plane), mean, std);
            if (flipAverage)
            {
                PixelTensor.WritePlanar(crop, input.AsSpan((faces + i) * plane, plane), mean, std, mirror: true);
            }
        });

        var output = network.Run(input, [batch, 3, Size, Size]);
        int values = Scheme.ValueCount;
        if (output.Length != batch * values)
        {
            throw new InvalidDataException($"{network.Source}: expected {values} outputs per face, got {output.Length / batch}.");
        }

        var result = new float[faces][];
        for (int i = 0; i < faces; i++)
        {
            var normalized = output.AsSpan(i * values, values).ToArray();
            if (flipAverage)
            {
                var mirrored = output.AsSpan((faces + i) * values, values);
                for (int k = 0; k < Scheme.Count; k++)
                {
                    int m = flipPermutation[k];
                    normalized[2 * k] = (normalized[2 * k] - mirrored[2 * m]) / 2;
                    normalized[(2 * k) + 1] = (normalized[(2 * k) + 1] + mirrored[(2 * m) + 1]) / 2;
                }
            }

            result[i] = ToImage(normalized, maps[i]);
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => network.Dispose();

    /// <summary>
    /// A left/right flip permutation from metadata: one 0-based index per point, each point's mirror partner, so
    /// applying it twice gives every point back (flip averaging reads the mirrored prediction through it).
    /// </summary>
    private static int[] ParsePermutation(OnnxNetwork network, string text, int count)
    {
        string[] parts = text.Split(',');
        var permutation = new int[parts.Length];
        bool valid = parts.Length == count;
        for (int i = 0; valid && i < parts.Length; i++)
        {
            valid = int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out permutation[i]) && permutation[i] >= 0 && permutation[i] < count;
        }

        for (int i = 0; valid && i < count; i++)
        {
            valid = permutation[permutation[i]] == i;
        }

        return valid ? permutation : throw network.Invalid("fkp.flip_permutation", text, $"{count} point indices in 0..{count - 1} that pair the points up (flipping twice is the identity)");
    }

    /// <summary>The map from image pixels to the network input for a region (non-uniform scaling, as in training).</summary>
    internal AffineMatrix CropMatrix(FaceBox region) =>
        AffineMatrix.Then(AffineMatrix.Translation(-region.X, -region.Y), AffineMatrix.Scaling(Size / region.Width, Size / region.Height));

    /// <summary>Network outputs in [-1, 1] over the input to image pixel centres.</summary>
    private float[] ToImage(float[] normalized, AffineMatrix map)
    {
        // Input pixel centre x = ((n + 1) * Size - 1) / 2; then invert the crop map (pixel-edge coordinates, +-0.5).
        var points = new float[normalized.Length];
        for (int i = 0; i + 1 < normalized.Length; i += 2)
        {
            float u = (normalized[i] + 1) * Size / 2, v = (normalized[i + 1] + 1) * Size / 2;
            points[i] = ((u - map.C) / map.A) - 0.5f;
            points[i + 1] = ((v - map.F) / map.E) - 0.5f;
        }

        return points;
    }
}
