using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference.Detection;

/// <summary>
/// MediaPipe BlazeFace on ONNX Runtime: the image is letterboxed (aspect kept, black bars) into the model's square
/// input, scaled to [-1, 1], and the 896 anchors are decoded and merged by weighted non-maximum suppression.
/// Thread-safe.
/// </summary>
internal sealed class BlazeFaceDetector : IDisposable
{
    private readonly OnnxNetwork network;
    private readonly int size;
    private readonly (float X, float Y)[] fineAnchors = BlazeFaceDecoder.Anchors(16, 2);
    private readonly (float X, float Y)[] coarseAnchors = BlazeFaceDecoder.Anchors(8, 6);
    private readonly int[] outputOrder;

    public BlazeFaceDetector(OnnxNetwork network, FaceFraming framing)
    {
        this.network = network;
        Framing = framing;
        var shape = network.InputShape;
        if (shape.Length != 4 || shape[3] != 3 || shape[1] != shape[2] || shape[1] <= 0)
        {
            throw new InvalidDataException($"{network.Source}: expected a BlazeFace input [1, S, S, 3], got [{string.Join(", ", shape)}].");
        }

        size = shape[1];

        // Scores of the 16x16 and 8x8 layers, then their regressions ("Identity", "Identity_1", "Identity_2", "Identity_3").
        var names = network.OutputNames;
        outputOrder = [.. new[] { "Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0" }.Select(n => IndexOf(names, n))];
    }

    /// <summary>The training framing's margins around this detector's boxes.</summary>
    public FaceFraming Framing { get; }

    /// <summary>The square input size (128 or 256).</summary>
    public int InputSize => size;

    /// <summary>
    /// Finds the faces in <paramref name="image"/>, best first. Pictures longer than <see cref="TileAbove"/> px are
    /// also searched in overlapping square tiles (side up to <see cref="TileSide"/> px), so that faces of 60 px stay
    /// large enough for the model; all passes are merged by weighted non-maximum suppression.
    /// </summary>
    public IReadOnlyList<FaceDetection> Detect(WarpSource image, float minScore, int maxFaces)
    {
        var candidates = new List<UnitDetection>();
        DetectIn(image, new FaceBox(0, 0, image.Width, image.Height), minScore, candidates);
        if (Math.Max(image.Width, image.Height) > TileAbove)
        {
            float side = Math.Min(TileSide, Math.Min(image.Width, image.Height));
            foreach (float y in TileStarts(image.Height, side))
            {
                foreach (float x in TileStarts(image.Width, side))
                {
                    DetectIn(image, new FaceBox(x, y, side, side), minScore, candidates);
                }
            }
        }

        // Candidates are in image pixels here: the keypoints are pixel-edge points, shifted to pixel centres at the end.
        return [.. BlazeFaceDecoder.WeightedNonMaxSuppression(candidates)
            .Take(maxFaces)
            .Select(d => new FaceDetection(
                new FaceBox(d.Left, d.Top, d.Width, d.Height),
                d.Score,
                [.. d.Keypoints.Select(v => v - 0.5f)]))];
    }

    /// <summary>Pictures longer than this (px) are also searched in tiles.</summary>
    internal const int TileAbove = 1024;

    /// <summary>The largest tile side (px).</summary>
    internal const float TileSide = 640;

    /// <summary>Tile origins along one axis: evenly spread, overlapping by at least a quarter of the side.</summary>
    internal static IEnumerable<float> TileStarts(int length, float side)
    {
        int count = length <= side ? 1 : (int)MathF.Ceiling((length - side) / (0.75f * side)) + 1;
        for (int i = 0; i < count; i++)
        {
            yield return count == 1 ? 0 : i * (length - side) / (count - 1);
        }
    }

    /// <summary>Runs the model on one region of the image, letterboxed, and adds its detections in image pixels.</summary>
    private void DetectIn(WarpSource image, FaceBox region, float minScore, List<UnitDetection> into)
    {
        float scale = size / Math.Max(region.Width, region.Height);
        float padX = (size - (region.Width * scale)) / 2, padY = (size - (region.Height * scale)) / 2;
        var letterbox = AffineMatrix.Then(
            AffineMatrix.Then(AffineMatrix.Translation(-region.X, -region.Y), AffineMatrix.Scaling(scale, scale)),
            AffineMatrix.Translation(padX, padY));
        var input = new float[size * size * 3];
        PixelTensor.WriteInterleaved(image.Warp(size, size, letterbox), input, 2f / 255f, -1f);
        var outputs = network.RunAll(input, [1, size, size, 3]);

        var found = new List<UnitDetection>();
        BlazeFaceDecoder.Decode(outputs[outputOrder[0]], outputs[outputOrder[2]], fineAnchors, size, minScore, found);
        BlazeFaceDecoder.Decode(outputs[outputOrder[1]], outputs[outputOrder[3]], coarseAnchors, size, minScore, found);
        float X(float u) => region.X + (((u * size) - padX) / scale);
        float Y(float v) => region.Y + (((v * size) - padY) / scale);
        foreach (var d in found)
        {
            var mapped = new UnitDetection(
                X(d.CenterX), Y(d.CenterY), d.Width * size / scale, d.Height * size / scale, d.Score,
                [.. d.Keypoints.Select((v, i) => i % 2 == 0 ? X(v) : Y(v))]);

            // A face cut by a tile's inner edge is left to the tile (or whole-picture pass) that holds it whole.
            bool cut = (mapped.Left < region.X && region.X > 0)
                || (mapped.Top < region.Y && region.Y > 0)
                || (mapped.Left + mapped.Width > region.Right && region.Right < image.Width)
                || (mapped.Top + mapped.Height > region.Bottom && region.Bottom < image.Height);
            if (!cut)
            {
                into.Add(mapped);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => network.Dispose();

    private int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        throw new InvalidDataException($"{network.Source}: expected BlazeFace outputs Identity..Identity_3, found {string.Join(", ", names)}.");
    }
}
