using System.Globalization;
using FacialKeypoints.Models.Import;
using Onnx;

namespace FacialKeypoints.Models.Export;

/// <summary>
/// Reads a float32 model that <see cref="OnnxWriter"/> wrote back into the <see cref="ExportGraph"/> it came from, so
/// that a network whose training run is gone (only its ONNX file kept) can still be written again, e.g. as int8. It
/// knows exactly the writer's forms: Conv with its weight and bias initialisers, a Relu right after a Conv, Add or
/// Gemm, MaxPool, Add, GlobalAveragePool, Flatten and Gemm (<c>transB = 1</c>); anything else is refused.
/// </summary>
internal static class OnnxGraphReader
{
    /// <summary>A graph read back, with its input size and metadata.</summary>
    public sealed record Result(ExportGraph Graph, int Height, int Width, Dictionary<string, string> Metadata);

    /// <summary>Reads a model file.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not a float32 graph of <see cref="OnnxWriter"/>'s form; the message names it.</exception>
    public static Result Read(string path)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not an ONNX model ({e.Message})", e);
        }

        try
        {
            return Read(model);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static Result Read(ModelProto model)
    {
        var graph = model.Graph ?? throw new InvalidDataException("the model has no graph.");
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (metadata.TryGetValue(OnnxExport.PrecisionKey, out string? precision) && precision != "float32")
        {
            throw new InvalidDataException($"the model is already {precision} ('{OnnxExport.PrecisionKey}'); give the float32 one.");
        }

        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var input = graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToList();
        if (input.Count != 1 || graph.Output.Count != 1)
        {
            throw new InvalidDataException($"expected one input and one output, found {input.Count} and {graph.Output.Count}.");
        }

        var dims = input[0].Type?.TensorType?.Shape?.Dim.Select(d => d.DimValue).ToArray() ?? [];
        if (dims.Length != 4 || dims[1] != 3 || dims[2] <= 0 || dims[3] <= 0)
        {
            throw new InvalidDataException($"the input '{input[0].Name}' is not [batch, 3, H, W].");
        }

        var nodes = new List<ExportNode>();
        foreach (var node in graph.Node)
        {
            int inputs = node.OpType switch { "Conv" or "Gemm" => 3, "Add" => 2, _ => 1 };
            if (node.Input.Count != inputs || node.Output.Count != 1)
            {
                throw Unsupported(node, $"arity ({node.Input.Count} inputs and {node.Output.Count} outputs; the writer gives {inputs} and 1)");
            }

            if (node.OpType == "Relu")
            {
                FuseRelu(nodes, node);
                continue;
            }

            nodes.Add(node.OpType switch
            {
                "Conv" => Conv(node, initializers),
                "MaxPool" => new MaxPoolNode(node.Input[0], node.Output[0], Square(node, "kernel_shape"), Square(node, "strides"), Pads(node)),
                "Add" => new AddNode(node.Input[0], node.Input[1], node.Output[0], Relu: false),
                "GlobalAveragePool" => new GlobalAveragePoolNode(node.Input[0], node.Output[0]),
                "Flatten" => Attribute(node, "axis")?.I is 1 or null
                    ? new FlattenNode(node.Input[0], node.Output[0])
                    : throw Unsupported(node, "axis other than 1"),
                "Gemm" => Gemm(node, initializers),
                _ => throw Unsupported(node, "operator"),
            });
        }

        var result = new ExportGraph(input[0].Name, graph.Output[0].Name, nodes);
        if (!result.Nodes.OfType<GemmNode>().Any(g => g.Output == result.Output))
        {
            throw new InvalidDataException($"the output '{result.Output}' is not produced by a Gemm.");
        }

        return new Result(result, checked((int)dims[2]), checked((int)dims[3]), metadata);
    }

    private static ConvNode Conv(NodeProto node, Dictionary<string, TensorProto> initializers)
    {
        if (Attribute(node, "group")?.I is not (1 or null) || Attribute(node, "dilations") is { } d && d.Ints.Any(v => v != 1))
        {
            throw Unsupported(node, "form (needs group 1, dilation 1)");
        }

        var (weight, shape) = Floats(initializers, node.Input[1], node);
        var (bias, _) = Floats(initializers, node.Input[2], node);
        if (shape.Length != 4 || shape[2] != shape[3] || bias.Length != shape[0])
        {
            throw Unsupported(node, "weight shape");
        }

        int kernel = Square(node, "kernel_shape");
        if (kernel != shape[2])
        {
            throw Unsupported(node, "kernel_shape against its weight");
        }

        return new ConvNode(node.Input[0], node.Output[0], weight, shape, bias, Square(node, "strides"), Pads(node), Relu: false);
    }

    private static GemmNode Gemm(NodeProto node, Dictionary<string, TensorProto> initializers)
    {
        if (Attribute(node, "transB")?.I != 1 || Attribute(node, "transA")?.I is not (0 or null)
            || Attribute(node, "alpha")?.F is not (1f or null) || Attribute(node, "beta")?.F is not (1f or null))
        {
            throw Unsupported(node, "form (needs weight [out, in] with transB = 1, alpha = beta = 1)");
        }

        var (weight, shape) = Floats(initializers, node.Input[1], node);
        var (bias, _) = Floats(initializers, node.Input[2], node);
        if (shape.Length != 2 || bias.Length != shape[0])
        {
            throw Unsupported(node, "weight shape");
        }

        return new GemmNode(node.Input[0], node.Output[0], weight, shape[0], shape[1], bias, Relu: false);
    }

    /// <summary>
    /// Folds a Relu into the node before it (a Conv, Add or Gemm, as the writer puts them), which takes the Relu's
    /// output name.
    /// </summary>
    private static void FuseRelu(List<ExportNode> nodes, NodeProto relu)
    {
        var previous = nodes.Count > 0 && nodes[^1].Output == relu.Input[0] ? nodes[^1] : null;
        nodes[^1] = previous switch
        {
            ConvNode conv when !conv.Relu => conv with { Output = relu.Output[0], Relu = true },
            AddNode add when !add.Relu => add with { Output = relu.Output[0], Relu = true },
            GemmNode gemm when !gemm.Relu => gemm with { Output = relu.Output[0], Relu = true },
            _ => throw Unsupported(relu, "placement (a Relu must follow the Conv, Add or Gemm it reads)"),
        };
    }

    private static (float[] Values, int[] Shape) Floats(Dictionary<string, TensorProto> initializers, string name, NodeProto node)
    {
        if (!initializers.TryGetValue(name, out var tensor) || tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw Unsupported(node, $"input '{name}' (not a float32 initialiser)");
        }

        var data = new OnnxTensor(tensor.Name, tensor.DataType, [.. tensor.Dims], tensor.RawData.Memory, tensor.FloatData.Count > 0 ? [.. tensor.FloatData] : null);
        return (data.ToFloatArray(), [.. tensor.Dims.Select(d => checked((int)d))]);
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    /// <summary>A square window or stride: two equal values.</summary>
    private static int Square(NodeProto node, string name)
    {
        var values = Attribute(node, name)?.Ints;
        return values is { Count: 2 } && values[0] == values[1] && values[0] > 0
            ? (int)values[0]
            : throw Unsupported(node, $"'{name}' (needs two equal values)");
    }

    /// <summary>Equal padding on all four sides (none when absent).</summary>
    private static int Pads(NodeProto node)
    {
        var values = Attribute(node, "pads")?.Ints;
        return values is null ? 0
            : values.Count == 4 && values.All(v => v == values[0]) ? (int)values[0]
            : throw Unsupported(node, "'pads' (needs four equal values)");
    }

    private static InvalidDataException Unsupported(NodeProto node, string what) =>
        new(string.Create(CultureInfo.InvariantCulture, $"node '{node.Name}' ({node.OpType}): unsupported {what}; only graphs written by OnnxExport in float32 can be read back."));
}
