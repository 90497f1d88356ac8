using System.Globalization;
using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference.Expressions;

/// <summary>
/// The expression network on ONNX Runtime: one crop per face, aligned by its landmarks (the face frame of the
/// scheme's normalisation pair), optionally with its mirror image, all faces of a picture in one batch; ten logits
/// per face — the three classes and the seven basic emotions — averaged over the mirror pair and turned into
/// probabilities by a softmax per head with the model's temperature. Everything comes from the model's metadata
/// (<c>expression.*</c> keys written by EmotionFit). Thread-safe.
/// </summary>
internal sealed class ExpressionNetwork : IDisposable
{
    private readonly OnnxNetwork network;
    private readonly int size;
    private readonly bool grey;
    private readonly bool mirror;
    private readonly float[] mean;
    private readonly float[] std;
    private readonly CropSpec crop;
    private readonly float threeTemperature;
    private readonly float sevenTemperature;
    private readonly int[] threeOrder;
    private readonly int[] sevenOrder;
    private readonly int outputs;

    public ExpressionNetwork(OnnxNetwork network)
    {
        this.network = network;
        size = network.RequireInt("fkp.input_width");
        grey = bool.Parse(network.Metadata.GetValueOrDefault("expression.greyscale", "false"));
        mirror = bool.Parse(network.Metadata.GetValueOrDefault("expression.mirror_average", "false"));
        mean = network.RequireFloats("fkp.normalization.mean");
        std = network.RequireFloats("fkp.normalization.std");
        outputs = network.RequireInt("fkp.class_count");
        crop = new CropSpec(
            network.RequireFloats("expression.crop.center_u")[0],
            network.RequireFloats("expression.crop.center_v")[0],
            network.RequireFloats("expression.crop.side")[0],
            size);
        crop.Validate();
        threeTemperature = network.RequireFloats("expression.valence.temperature")[0];
        sevenTemperature = network.RequireFloats("expression.emotion.temperature")[0];
        threeOrder = Order(network, "expression.valence", [.. Enum.GetValues<ExpressionLabel>().Select(l => l.ToName())]);
        sevenOrder = Order(network, "expression.emotion", [.. Enum.GetValues<BasicEmotion>().Select(e => e.ToString().ToLowerInvariant())]);
        if (mean.Length != std.Length || (!grey && mean.Length != 3) || !(threeTemperature > 0) || !(sevenTemperature > 0))
        {
            throw new InvalidDataException($"{network.Source}: inconsistent expression metadata (channels, normalisation or temperatures).");
        }
    }

    /// <summary>Classifies each face given its landmarks.</summary>
    public ExpressionResult[] Classify(WarpSource image, float[][] landmarks, LandmarkScheme scheme)
    {
        if (landmarks.Length == 0)
        {
            return [];
        }

        int faces = landmarks.Length, copies = mirror ? 2 : 1, channels = mean.Length, plane = channels * size * size;
        var input = new float[faces * copies * plane];
        Parallel.For(0, faces, i =>
        {
            var face = image.Warp(size, size, FaceCrop.SourceToCrop(landmarks[i], scheme, crop));
            PixelTensor.WritePlanar(face, input.AsSpan(i * plane, plane), mean, std, grey: grey);
            if (mirror)
            {
                PixelTensor.WritePlanar(face, input.AsSpan((faces + i) * plane, plane), mean, std, mirror: true, grey: grey);
            }
        });

        var logits = network.Run(input, [faces * copies, channels, size, size]);
        if (logits.Length != faces * copies * outputs)
        {
            throw new InvalidDataException($"{network.Source}: expected {outputs} outputs per face, got {logits.Length / (faces * copies)}.");
        }

        var results = new ExpressionResult[faces];
        var averaged = new float[outputs];
        for (int i = 0; i < faces; i++)
        {
            for (int k = 0; k < outputs; k++)
            {
                averaged[k] = mirror ? (logits[(i * outputs) + k] + logits[((faces + i) * outputs) + k]) / 2 : logits[(i * outputs) + k];
            }

            var three = Softmax(averaged, threeOrder, threeTemperature);
            var seven = Softmax(averaged, sevenOrder, sevenTemperature);
            results[i] = new ExpressionResult((ExpressionLabel)ArgMax(three), three, (BasicEmotion)ArgMax(seven), seven);
        }

        return results;
    }

    /// <inheritdoc/>
    public void Dispose() => network.Dispose();

    /// <summary>For each wanted label (in our enum order), its output index: the head's first output plus its place in the head's label list.</summary>
    private static int[] Order(OnnxNetwork network, string head, string[] wanted)
    {
        var labels = network.Require($"{head}.labels").Split(',').Select(l => l.Trim()).ToArray();
        var range = network.Require($"{head}.outputs").Split('-');
        int first = int.Parse(range[0], CultureInfo.InvariantCulture);
        return [.. wanted.Select(name => Array.IndexOf(labels, name) is var at and >= 0
            ? first + at
            : throw new InvalidDataException($"{network.Source}: '{head}.labels' lacks '{name}' ({string.Join(",", labels)})."))];
    }

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
}
