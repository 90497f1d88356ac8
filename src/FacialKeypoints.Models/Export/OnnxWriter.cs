using Onnx;
using static FacialKeypoints.Models.Export.OnnxProto;

namespace FacialKeypoints.Models.Export;

/// <summary>
/// Writes an <see cref="ExportGraph"/> as a float32 ONNX graph: Conv (batch norm folded), Relu, MaxPool, Add,
/// GlobalAveragePool, Flatten and Gemm. Input <c>[batch, 3, H, W]</c>, output <c>[batch, N]</c>.
/// </summary>
internal static class OnnxWriter
{
    public static ModelProto Build(ExportGraph graph, int height, int width, IReadOnlyDictionary<string, string> metadata)
    {
        var proto = new GraphProto { Name = "facial-keypoints" };
        proto.Input.Add(FloatValue(graph.Input, 3, height, width));
        proto.Output.Add(FloatValue(graph.Output, OutputWidth(graph)));
        foreach (var node in graph.Nodes)
        {
            switch (node)
            {
                case ConvNode conv:
                    string convOut = conv.Relu ? conv.Output + ".pre_relu" : conv.Output;
                    proto.Initializer.Add(FloatTensor(conv.Output + ".weight", conv.Weight, [.. conv.WeightShape.Select(d => (long)d)]));
                    proto.Initializer.Add(FloatTensor(conv.Output + ".bias", conv.Bias, conv.OutChannels));
                    proto.Node.Add(Conv(conv, conv.Input, conv.Output + ".weight", conv.Output + ".bias", convOut));
                    AddRelu(proto, conv.Relu, convOut, conv.Output);
                    break;
                case MaxPoolNode pool:
                    proto.Node.Add(MaxPool(pool, pool.Input, pool.Output));
                    break;
                case AddNode add:
                    string sum = add.Relu ? add.Output + ".pre_relu" : add.Output;
                    proto.Node.Add(Node("Add", add.Output + ".add", [add.A, add.B], [sum]));
                    AddRelu(proto, add.Relu, sum, add.Output);
                    break;
                case GlobalAveragePoolNode gap:
                    proto.Node.Add(Node("GlobalAveragePool", gap.Output, [gap.Input], [gap.Output]));
                    break;
                case FlattenNode flatten:
                    proto.Node.Add(Node("Flatten", flatten.Output, [flatten.Input], [flatten.Output], attributes: Int("axis", 1)));
                    break;
                case GemmNode gemm:
                    string gemmOut = gemm.Relu ? gemm.Output + ".pre_relu" : gemm.Output;
                    proto.Initializer.Add(FloatTensor(gemm.Output + ".weight", gemm.Weight, gemm.OutFeatures, gemm.InFeatures));
                    proto.Initializer.Add(FloatTensor(gemm.Output + ".bias", gemm.Bias, gemm.OutFeatures));
                    proto.Node.Add(Gemm(gemm.Output, gemm.Input, gemm.Output + ".weight", gemm.Output + ".bias", gemmOut));
                    AddRelu(proto, gemm.Relu, gemmOut, gemm.Output);
                    break;
                default:
                    throw new NotSupportedException($"No ONNX form for {node.GetType().Name}.");
            }
        }

        return Model(proto, metadata, usesMicrosoftDomain: false);
    }

    /// <summary>The width of the graph's output: the last linear layer's.</summary>
    public static int OutputWidth(ExportGraph graph) =>
        graph.Nodes.OfType<GemmNode>().Single(g => g.Output == graph.Output).OutFeatures;

    public static NodeProto Conv(ConvNode conv, string input, string weight, string bias, string output) =>
        Node("Conv", conv.Output, [input, weight, bias], [output], attributes: ConvAttributes(conv));

    public static AttributeProto[] ConvAttributes(ConvNode conv) =>
    [
        Ints("kernel_shape", conv.Kernel, conv.Kernel),
        Ints("strides", conv.Stride, conv.Stride),
        Ints("pads", conv.Padding, conv.Padding, conv.Padding, conv.Padding),
        Ints("dilations", 1, 1),
        Int("group", 1),
    ];

    public static NodeProto MaxPool(MaxPoolNode pool, string input, string output) =>
        Node("MaxPool", pool.Output, [input], [output], attributes:
        [
            Ints("kernel_shape", pool.Kernel, pool.Kernel),
            Ints("strides", pool.Stride, pool.Stride),
            Ints("pads", pool.Padding, pool.Padding, pool.Padding, pool.Padding),
        ]);

    public static NodeProto Gemm(string name, string input, string weight, string bias, string output) =>
        Node("Gemm", name, [input, weight, bias], [output], attributes: [Float("alpha", 1f), Float("beta", 1f), Int("transB", 1)]);

    public static void AddRelu(GraphProto proto, bool relu, string input, string output)
    {
        if (relu)
        {
            proto.Node.Add(Node("Relu", output + ".relu", [input], [output]));
        }
    }
}
