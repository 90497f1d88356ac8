using FacialKeypoints.Emotion;
using FacialKeypoints.Models.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit;

/// <summary>
/// Loads an exported float32 expression network (<c>expression.onnx</c>) back into an <see cref="ExpressionNetwork"/>,
/// so that its head can be refit and the network exported again when the training run that made it is gone. The
/// export folded each batch norm into its convolution; the import puts the folded weights in the convolution and
/// makes the batch norm an identity (scale 1, shift = the folded bias, mean 0, variance 1 - eps), which computes the
/// same function and folds back to the same weights.
/// </summary>
internal static class ExpressionOnnxImport
{
    /// <summary>Copies the file's weights into <paramref name="net"/> (3 stages, one output per logit of the file).</summary>
    /// <exception cref="InvalidDataException">The file is not such a network, or its shapes differ from the network's; the message names the file.</exception>
    public static void Load(ExpressionNetwork net, string path)
    {
        var graph = OnnxGraphReader.Read(path).Graph;
        var state = net.state_dict();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var norms = net.Backbone.named_modules().Where(m => m.module is TorchSharp.Modules.BatchNorm2d)
            .ToDictionary(m => m.name, m => ((TorchSharp.Modules.BatchNorm2d)m.module).eps, StringComparer.Ordinal);
        using var noGrad = torch.no_grad();

        void Set(string name, float[] values, long[] shape)
        {
            string key = "backbone." + name;
            if (!state.TryGetValue(key, out var target) || !target.shape.SequenceEqual(shape))
            {
                string found = state.TryGetValue(key, out var t) ? $"[{string.Join(", ", t.shape)}]" : "nothing";
                throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", shape)}], the network has {found} there.");
            }

            using var source = torch.tensor(values, shape);
            target.copy_(source);
            used.Add(key);
        }

        foreach (var conv in graph.Nodes.OfType<ConvNode>())
        {
            var (convName, normName) = ModuleNames(conv.Output, path);
            int channels = conv.OutChannels;
            Set(convName + ".weight", conv.Weight, [.. conv.WeightShape.Select(d => (long)d)]);
            Set(normName + ".weight", Enumerable.Repeat(1f, channels).ToArray(), [channels]);
            Set(normName + ".bias", conv.Bias, [channels]);
            Set(normName + ".running_mean", new float[channels], [channels]);
            Set(normName + ".running_var", Enumerable.Repeat((float)(1 - norms.GetValueOrDefault(normName, 1e-5)), channels).ToArray(), [channels]);
        }

        var gemm = graph.Nodes.OfType<GemmNode>().Single(g => g.Output == graph.Output);
        if (gemm.OutFeatures != net.ClassCount || gemm.InFeatures != ExpressionNetwork.FeatureCount(net.Stages))
        {
            throw new InvalidDataException($"{path}: the linear layer is {gemm.InFeatures} -> {gemm.OutFeatures}, the network's {ExpressionNetwork.FeatureCount(net.Stages)} -> {net.ClassCount}.");
        }

        using (var w = torch.tensor(gemm.Weight, [gemm.OutFeatures, gemm.InFeatures]))
        using (var b = torch.tensor(gemm.Bias, [gemm.OutFeatures]))
        {
            net.Classifier.weight!.copy_(w);
            net.Classifier.bias!.copy_(b);
        }

        var missing = state.Keys.Where(k => k.StartsWith("backbone.", StringComparison.Ordinal) && net.IsUsed(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !used.Contains(k)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{path}: no weights for {string.Join(", ", missing.Take(3))}{(missing.Count > 3 ? ", ..." : string.Empty)}.");
        }
    }

    /// <summary>The convolution and batch norm behind a convolution's output name, as <c>GraphBuilder</c> names them.</summary>
    private static (string Conv, string Norm) ModuleNames(string output, string path)
    {
        if (output == "conv1")
        {
            return ("conv1", "bn1");
        }

        int dot = output.LastIndexOf('.');
        string block = dot > 0 ? output[..dot] : string.Empty;
        return output[(dot + 1)..] switch
        {
            "relu1" => (block + ".conv1", block + ".bn1"),
            "bn2" => (block + ".conv2", block + ".bn2"),
            "downsample" => (output + ".0", output + ".1"),
            _ => throw new InvalidDataException($"{path}: a convolution named '{output}' is not one of the ResNet-18 backbone's."),
        };
    }
}
