namespace FacialKeypoints.Models.Export;

/// <summary>
/// A network as the exporter sees it: inference-time operators with batch norm already folded into the
/// convolutions and dropout gone, in execution order, connected by value names. The ONNX writers
/// (<see cref="OnnxWriter"/>, <see cref="Int8Writer"/>) and the calibration evaluator (<see cref="GraphEvaluator"/>)
/// all read this one description, so they cannot disagree about the network.
/// </summary>
internal sealed class ExportGraph
{
    public ExportGraph(string input, string output, IReadOnlyList<ExportNode> nodes)
    {
        Input = input;
        Output = output;
        Nodes = nodes;
    }

    /// <summary>The graph input, <c>[B, 3, H, W]</c> float32, normalised.</summary>
    public string Input { get; }

    /// <summary>The graph output, <c>[B, N]</c> float32.</summary>
    public string Output { get; }

    public IReadOnlyList<ExportNode> Nodes { get; }

    /// <summary>The nodes that read a value.</summary>
    public IEnumerable<ExportNode> ConsumersOf(string value) => Nodes.Where(n => n.Inputs.Contains(value, StringComparer.Ordinal));
}

/// <summary>One operator; <see cref="Output"/> is the value it produces (after its fused ReLU, when it has one).</summary>
internal abstract record ExportNode(string Output)
{
    public abstract IReadOnlyList<string> Inputs { get; }
}

/// <summary>
/// A 2-D convolution with batch norm folded in: weight <c>[O, I, K, K]</c> (row-major), bias <c>[O]</c>, square
/// stride and padding, and an optional ReLU after it.
/// </summary>
internal sealed record ConvNode(string Input, string Output, float[] Weight, int[] WeightShape, float[] Bias, int Stride, int Padding, bool Relu)
    : ExportNode(Output)
{
    public override IReadOnlyList<string> Inputs => [Input];

    public int OutChannels => WeightShape[0];

    public int Kernel => WeightShape[2];
}

/// <summary>Max pooling with a square window.</summary>
internal sealed record MaxPoolNode(string Input, string Output, int Kernel, int Stride, int Padding) : ExportNode(Output)
{
    public override IReadOnlyList<string> Inputs => [Input];
}

/// <summary>The residual sum, with an optional ReLU after it.</summary>
internal sealed record AddNode(string A, string B, string Output, bool Relu) : ExportNode(Output)
{
    public override IReadOnlyList<string> Inputs => [A, B];
}

/// <summary>Average over the spatial dimensions: <c>[B, C, H, W]</c> to <c>[B, C, 1, 1]</c>.</summary>
internal sealed record GlobalAveragePoolNode(string Input, string Output) : ExportNode(Output)
{
    public override IReadOnlyList<string> Inputs => [Input];
}

/// <summary>Flattens everything after the batch dimension: <c>[B, ...]</c> to <c>[B, n]</c>.</summary>
internal sealed record FlattenNode(string Input, string Output) : ExportNode(Output)
{
    public override IReadOnlyList<string> Inputs => [Input];
}

/// <summary>A linear layer <c>y = x W^T + b</c>: weight <c>[Out, In]</c> (row-major), with an optional ReLU after it.</summary>
internal sealed record GemmNode(string Input, string Output, float[] Weight, int OutFeatures, int InFeatures, float[] Bias, bool Relu)
    : ExportNode(Output)
{
    public override IReadOnlyList<string> Inputs => [Input];
}
