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

    /// <summary>Finds the faces in <paramref name="image"/>, best first.</summary>
    public IReadOnlyList<FaceDetection> Detect(WarpSource image, float minScore, int maxFaces)
    {
        float scale = (float)size / Math.Max(image.Width, image.Height);
        float padX = (size - (image.Width * scale)) / 2, padY = (size - (image.Height * scale)) / 2;
        var letterbox = AffineMatrix.Then(AffineMatrix.Scaling(scale, scale), AffineMatrix.Translation(padX, padY));
        var input = new float[size * size * 3];
        PixelTensor.WriteInterleaved(image.Warp(size, size, letterbox), input, 2f / 255f, -1f);
        var outputs = network.RunAll(input, [1, size, size, 3]);

        var candidates = new List<UnitDetection>();
        BlazeFaceDecoder.Decode(outputs[outputOrder[0]], outputs[outputOrder[2]], fineAnchors, size, minScore, candidates);
        BlazeFaceDecoder.Decode(outputs[outputOrder[1]], outputs[outputOrder[3]], coarseAnchors, size, minScore, candidates);

        float X(float u) => ((u * size) - padX) / scale;
        float Y(float v) => ((v * size) - padY) / scale;
        return [.. BlazeFaceDecoder.WeightedNonMaxSuppression(candidates)
            .Take(maxFaces)
            .Select(d => new FaceDetection(
                new FaceBox(X(d.Left), Y(d.Top), d.Width * size / scale, d.Height * size / scale),
                d.Score,
                [.. d.Keypoints.Select((v, i) => i % 2 == 0 ? X(v) - 0.5f : Y(v) - 0.5f)]))];
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
