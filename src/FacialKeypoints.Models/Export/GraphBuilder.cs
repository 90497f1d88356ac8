using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Export;

/// <summary>
/// Reads a network's structure and weights into an <see cref="ExportGraph"/>: the stem (conv1, bn1, ReLU,
/// max pooling), the basic blocks of the stages present (with their downsample projections), then the head.
/// Batch norm is folded into the preceding convolution in double precision with its running statistics
/// (evaluation mode); dropout is the identity at inference and disappears.
/// </summary>
internal static class GraphBuilder
{
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>The graph of a keypoint network: backbone (all four stages) and its <see cref="ReferenceHead"/> or <see cref="SpatialHead"/>.</summary>
    /// <exception cref="NotSupportedException">The head is of another kind.</exception>
    public static ExportGraph FromKeypointNetwork(KeypointNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var nodes = new List<ExportNode>();
        string features = AddBackbone(nodes, network.Backbone, stages: 4);
        var head = Weights(network.Head);
        switch (network.Head)
        {
            case ReferenceHead:
                string flat = AddPoolAndFlatten(nodes, features);
                nodes.Add(Gemm(head, "hidden", flat, "head.hidden", relu: true));
                nodes.Add(Gemm(head, "output", "head.hidden", OutputName, relu: false));
                break;
            case SpatialHead spatial:
                nodes.Add(FoldedConv(head, Modules(spatial), "reduce", "norm", features, "head.reduce", stride: 1, padding: 0, relu: true));
                nodes.Add(new FlattenNode("head.reduce", "head.flat"));
                nodes.Add(Gemm(head, "output", "head.flat", OutputName, relu: false));
                break;
            default:
                throw new NotSupportedException(
                    $"ONNX export knows the '{ReferenceHead.HeadKind}' and '{SpatialHead.HeadKind}' heads, not '{network.Head.Kind}'.");
        }

        return new ExportGraph(InputName, OutputName, nodes);
    }

    /// <summary>The graph of a classifier: the first <paramref name="stages"/> stages, average pooling and one linear layer.</summary>
    /// <exception cref="ArgumentException">The linear layer does not read the pooled width of those stages.</exception>
    public static ExportGraph FromBackboneAndLinear(ResNet18Backbone backbone, int stages, Linear linear)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(linear);
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, 4);
        var nodes = new List<ExportNode>();
        string features = AddBackbone(nodes, backbone, stages);
        string flat = AddPoolAndFlatten(nodes, features);
        var weights = Weights(linear);
        var gemm = Gemm(weights, prefix: null, flat, OutputName, relu: false);
        int width = 64 << (stages - 1);
        if (gemm.InFeatures != width)
        {
            throw new ArgumentException($"The linear layer reads {gemm.InFeatures} features but {stages} stages give {width}.", nameof(linear));
        }

        nodes.Add(gemm);
        return new ExportGraph(InputName, OutputName, nodes);
    }

    private static string AddBackbone(List<ExportNode> nodes, ResNet18Backbone backbone, int stages)
    {
        var weights = Weights(backbone);
        var modules = Modules(backbone);
        nodes.Add(FoldedConv(weights, modules, "conv1", "bn1", InputName, "conv1", stride: 2, padding: 3, relu: true));
        nodes.Add(new MaxPoolNode("conv1", "maxpool", Kernel: 3, Stride: 2, Padding: 1));
        string current = "maxpool";
        for (int stage = 1; stage <= stages; stage++)
        {
            var blocks = backbone.Stage(stage).children().Cast<BasicBlock>().ToArray();
            for (int b = 0; b < blocks.Length; b++)
            {
                string p = $"layer{stage}.{b}";
                var block = blocks[b];
                nodes.Add(FoldedConv(weights, modules, $"{p}.conv1", $"{p}.bn1", current, $"{p}.relu1", block.Stride, padding: 1, relu: true));
                nodes.Add(FoldedConv(weights, modules, $"{p}.conv2", $"{p}.bn2", $"{p}.relu1", $"{p}.bn2", stride: 1, padding: 1, relu: false));
                string shortcut = current;
                if (block.HasDownsample)
                {
                    shortcut = $"{p}.downsample";
                    nodes.Add(FoldedConv(weights, modules, $"{p}.downsample.0", $"{p}.downsample.1", current, shortcut, block.Stride, padding: 0, relu: false));
                }

                nodes.Add(new AddNode($"{p}.bn2", shortcut, $"{p}.out", Relu: true));
                current = $"{p}.out";
            }
        }

        return current;
    }

    private static string AddPoolAndFlatten(List<ExportNode> nodes, string features)
    {
        nodes.Add(new GlobalAveragePoolNode(features, "pool"));
        nodes.Add(new FlattenNode("pool", "features"));
        return "features";
    }

    private static ConvNode FoldedConv(
        Dictionary<string, (float[] Values, long[] Shape)> weights,
        Dictionary<string, nn.Module> modules,
        string conv,
        string norm,
        string input,
        string output,
        int stride,
        int padding,
        bool relu)
    {
        var (w, shape) = weights[conv + ".weight"];
        if (weights.ContainsKey(conv + ".bias"))
        {
            throw new NotSupportedException($"Convolution '{conv}' has a bias; the backbone's convolutions have none.");
        }

        float[] gamma = weights[norm + ".weight"].Values;
        float[] beta = weights[norm + ".bias"].Values;
        float[] mean = weights[norm + ".running_mean"].Values;
        float[] variance = weights[norm + ".running_var"].Values;
        double eps = modules.TryGetValue(norm, out var module) && module is BatchNorm2d bn ? bn.eps : 1e-5;
        int outChannels = (int)shape[0];
        int perChannel = w.Length / outChannels;
        var folded = new float[w.Length];
        var bias = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            double factor = gamma[o] / Math.Sqrt(variance[o] + eps);
            for (int k = 0; k < perChannel; k++)
            {
                folded[(o * perChannel) + k] = (float)(w[(o * perChannel) + k] * factor);
            }

            bias[o] = (float)(beta[o] - (mean[o] * factor));
        }

        return new ConvNode(input, output, folded, [.. shape.Select(d => (int)d)], bias, stride, padding, relu);
    }

    private static GemmNode Gemm(Dictionary<string, (float[] Values, long[] Shape)> weights, string? prefix, string input, string output, bool relu)
    {
        string p = prefix is null ? string.Empty : prefix + ".";
        var (w, shape) = weights[p + "weight"];
        float[] bias = weights.TryGetValue(p + "bias", out var b) ? b.Values : new float[shape[0]];
        return new GemmNode(input, output, w, (int)shape[0], (int)shape[1], bias, relu);
    }

    /// <summary>A module's parameters and buffers as float32 arrays on the CPU, by state-dict name.</summary>
    private static Dictionary<string, (float[] Values, long[] Shape)> Weights(nn.Module module)
    {
        var result = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            if (!tensor.is_floating_point())
            {
                continue; // num_batches_tracked
            }

            var cpu = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
            result[name] = (cpu.data<float>().ToArray(), cpu.shape);
        }

        return result;
    }

    private static Dictionary<string, nn.Module> Modules(nn.Module module) =>
        module.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
}
