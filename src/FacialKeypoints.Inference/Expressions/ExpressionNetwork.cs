using System.Globalization;
using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference.Expressions;

/// <summary>
/// The expression network on ONNX Runtime: one crop per face, aligned by its landmarks (the face frame of the
/// scheme's normalisation pair), one batch per image, ten logits per face — the three classes and the seven basic
/// emotions — turned into calibrated probabilities by a softmax with the model's temperatures. Thread-safe.
/// </summary>
internal sealed class ExpressionNetwork : IDisposable
{
    private readonly OnnxNetwork network;
    private readonly int size;
    private readonly bool grey;
    private readonly float[] mean;
    private readonly float[] std;
    private readonly CropSpec crop;
    private readonly float[] temperatures;
    private readonly int[] threeOrder;
    private readonly int[] sevenOrder;

    public ExpressionNetwork(OnnxNetwork network)
    {
        this.network = network;
        size = network.RequireInt("fkp.input_width");
        grey = network.Metadata.TryGetValue("fkp.expression.grey", out var g) && bool.Parse(g);
        mean = network.RequireFloats("fkp.normalization.mean");
        std = network.RequireFloats("fkp.normalization.std");
        var region = network.RequireFloats("fkp.expression.crop");
        temperatures = network.Metadata.ContainsKey("fkp.expression.temperature") ? network.RequireFloats("fkp.expression.temperature") : [1f, 1f];
        var labels = network.Require("fkp.labels").Split(',');
        if (labels.Length != 10 || region.Length != 3 || temperatures.Length != 2 || mean.Length != (grey ? 1 : 3))
        {
            throw new InvalidDataException($"{network.Source}: expected 10 labels (3 classes, then 7 emotions), a crop (centre u, v, side) and two temperatures.");
        }

        crop = new CropSpec(region[0], region[1], region[2], size);
        crop.Validate();

        threeOrder = [.. Enum.GetValues<ExpressionLabel>().Select(l => Find(labels, 0, 3, l.ToName()))];
        sevenOrder = [.. Enum.GetValues<BasicEmotion>().Select(e => Find(labels, 3, 7, e.ToString().ToLowerInvariant()))];
    }

    /// <summary>Classifies each face given its landmarks.</summary>
    public ExpressionResult[] Classify(WarpSource image, float[][] landmarks, LandmarkScheme scheme)
    {
        if (landmarks.Length == 0)
        {
            return [];
        }

        int channels = grey ? 1 : 3, plane = channels * size * size;
        var input = new float[landmarks.Length * plane];
        Parallel.For(0, landmarks.Length, i =>
        {
            var map = FaceCrop.SourceToCrop(landmarks[i], scheme, crop);
            PixelTensor.WritePlanar(image.Warp(size, size, map), input.AsSpan(i * plane, plane), mean, std, grey: grey);
        });

        var logits = network.Run(input, [landmarks.Length, channels, size, size]);
        var results = new ExpressionResult[landmarks.Length];
        for (int i = 0; i < results.Length; i++)
        {
            var face = logits.AsSpan(i * 10, 10);
            var three = Softmax(face, threeOrder, temperatures[0]);
            var seven = Softmax(face, sevenOrder, temperatures[1]);
            results[i] = new ExpressionResult((ExpressionLabel)ArgMax(three), three, (BasicEmotion)ArgMax(seven), seven);
        }

        return results;
    }

    /// <inheritdoc/>
    public void Dispose() => network.Dispose();

    private static float[] Softmax(ReadOnlySpan<float> logits, int[] order, float temperature)
    {
        var result = new float[order.Length];
        float max = float.MinValue;
        foreach (int i in order)
        {
            max = Math.Max(max, logits[i] / temperature);
        }

        float sum = 0;
        for (int k = 0; k < order.Length; k++)
        {
            result[k] = MathF.Exp((logits[order[k]] / temperature) - max);
            sum += result[k];
        }

        for (int k = 0; k < order.Length; k++)
        {
            result[k] /= sum;
        }

        return result;
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            best = values[i] > values[best] ? i : best;
        }

        return best;
    }

    private int Find(string[] labels, int start, int count, string name)
    {
        int index = Array.FindIndex(labels, start, count, l => string.Equals(l.Trim(), name, StringComparison.OrdinalIgnoreCase));
        return index >= 0
            ? index
            : throw new InvalidDataException($"{network.Source}: label '{name}' is missing from metadata 'fkp.labels' ({string.Join(",", labels)}).");
    }
}
