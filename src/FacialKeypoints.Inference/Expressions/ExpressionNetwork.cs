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
        // Every value is checked here, once: a malformed one is an InvalidDataException naming the file and the key.
        this.network = network;
        size = network.RequireInt("fkp.input_width", 8, 1024);
        grey = network.OptionalBool("expression.greyscale", false);
        mirror = network.OptionalBool("expression.mirror_average", false);
        mean = network.RequireFloats("fkp.normalization.mean");
        if (grey ? mean.Length is not (1 or 3) : mean.Length != 3)
        {
            throw network.Invalid("fkp.normalization.mean", network.Require("fkp.normalization.mean"), grey ? "1 or 3 numbers (a greyscale input)" : "3 numbers (an RGB input)");
        }

        std = network.RequirePositiveFloats("fkp.normalization.std", mean.Length);
        outputs = network.RequireInt("fkp.class_count", 1, 4096);
        float side = network.RequireFloat("expression.crop.side");
        crop = new CropSpec(network.RequireFloat("expression.crop.center_u"), network.RequireFloat("expression.crop.center_v"), side, size);
        if (!(side > 0))
        {
            throw network.Invalid("expression.crop.side", network.Require("expression.crop.side"), "a number above zero");
        }

        threeTemperature = RequireTemperature(network, "expression.valence.temperature");
        sevenTemperature = RequireTemperature(network, "expression.emotion.temperature");
        threeOrder = Order(network, "expression.valence", [.. Enum.GetValues<ExpressionLabel>().Select(l => l.ToName())], outputs);
        sevenOrder = Order(network, "expression.emotion", [.. Enum.GetValues<BasicEmotion>().Select(e => e.ToString().ToLowerInvariant())], outputs);
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

    /// <summary>A softmax temperature: a finite number above zero.</summary>
    private static float RequireTemperature(OnnxNetwork network, string key)
    {
        float value = network.RequireFloat(key);
        return value > 0 ? value : throw network.Invalid(key, network.Require(key), "a number above zero");
    }

    /// <summary>
    /// For each wanted label (in our enum order), its output index: the head's first output plus its place in the
    /// head's label list. The head's range <c>first-last</c> lies within the model's outputs and holds one output per label.
    /// </summary>
    private static int[] Order(OnnxNetwork network, string head, string[] wanted, int outputs)
    {
        var labels = network.Require($"{head}.labels").Split(',').Select(l => l.Trim()).ToArray();
        string rangeKey = $"{head}.outputs", rangeText = network.Require(rangeKey);
        var range = rangeText.Split('-');
        if (range.Length != 2
            || !int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
            || !int.TryParse(range[1], NumberStyles.None, CultureInfo.InvariantCulture, out int last)
            || last >= outputs
            || last - first + 1 != labels.Length)
        {
            throw network.Invalid(rangeKey, rangeText, $"a range first-last of the {outputs} outputs ('fkp.class_count') with one output per label of '{head}.labels' ({labels.Length})");
        }

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
