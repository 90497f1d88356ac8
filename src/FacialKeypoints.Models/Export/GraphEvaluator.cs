using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Export;

/// <summary>
/// Runs an <see cref="ExportGraph"/> with TorchSharp on the CPU, showing every value it computes to an observer.
/// Calibration reads the activations' ranges through it; tests use it to check the batch-norm folding against the
/// original modules. Not thread-safe.
/// </summary>
internal sealed class GraphEvaluator : IDisposable
{
    private readonly ExportGraph graph;
    private readonly Dictionary<ExportNode, (Tensor Weight, Tensor Bias)> weights = [];

    public GraphEvaluator(ExportGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.graph = graph;
        foreach (var node in graph.Nodes)
        {
            switch (node)
            {
                case ConvNode conv:
                    weights[node] = (tensor(conv.Weight, [.. conv.WeightShape.Select(d => (long)d)]), tensor(conv.Bias));
                    break;
                case GemmNode gemm:
                    weights[node] = (tensor(gemm.Weight, [gemm.OutFeatures, gemm.InFeatures]), tensor(gemm.Bias));
                    break;
            }
        }
    }

    /// <summary>Runs the graph on normalised images <c>[B, 3, H, W]</c> (not disposed).</summary>
    /// <param name="input">The images.</param>
    /// <param name="observe">Called with the input and with each node's output; the tensor is only valid during the call.</param>
    /// <returns>The output <c>[B, N]</c>, owned by the caller.</returns>
    public Tensor Run(Tensor input, Action<string, Tensor>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [graph.Input] = input };
        observe?.Invoke(graph.Input, input);
        foreach (var node in graph.Nodes)
        {
            Tensor result = node switch
            {
                ConvNode conv => nn.functional.conv2d(
                    values[conv.Input], weights[node].Weight, weights[node].Bias,
                    strides: [conv.Stride, conv.Stride], padding: [conv.Padding, conv.Padding]),
                MaxPoolNode pool => nn.functional.max_pool2d(
                    values[pool.Input], [pool.Kernel, pool.Kernel], [pool.Stride, pool.Stride], [pool.Padding, pool.Padding]),
                AddNode add => values[add.A] + values[add.B],
                GlobalAveragePoolNode gap => nn.functional.adaptive_avg_pool2d(values[gap.Input], 1),
                FlattenNode flatten => values[flatten.Input].flatten(1),
                GemmNode => nn.functional.linear(values[node.Inputs[0]], weights[node].Weight, weights[node].Bias),
                _ => throw new NotSupportedException(node.GetType().Name),
            };

            if (node is ConvNode { Relu: true } or AddNode { Relu: true } or GemmNode { Relu: true })
            {
                result = nn.functional.relu(result);
            }

            values[node.Output] = result;
            observe?.Invoke(node.Output, result);
        }

        return values[graph.Output].MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var (weight, bias) in weights.Values)
        {
            weight.Dispose();
            bias.Dispose();
        }

        weights.Clear();
    }
}
