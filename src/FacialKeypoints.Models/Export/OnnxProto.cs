using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace FacialKeypoints.Models.Export;

/// <summary>Small builders over OnnxSharp's generated protobuf classes, shared by the float and int8 writers.</summary>
internal static class OnnxProto
{
    /// <summary>The default operator set: supported in full by ONNX Runtime 1.16 and later.</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 goes with opset 17.</summary>
    public const long IrVersion = 8;

    /// <summary>ONNX Runtime's contrib operator domain (QLinearAdd).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>The symbolic batch dimension of the input and output.</summary>
    public const string BatchDimension = "batch";

    public static NodeProto Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = "", params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static TensorProto FloatTensor(string name, float[] values, params long[] dims) =>
        Tensor(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values.AsSpan()), dims);

    public static TensorProto Int32Tensor(string name, int[] values, params long[] dims) =>
        Tensor(name, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(values.AsSpan()), dims);

    public static TensorProto Int8Tensor(string name, sbyte[] values, params long[] dims) =>
        Tensor(name, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values.AsSpan()), dims);

    public static TensorProto UInt8Tensor(string name, byte[] values, params long[] dims) =>
        Tensor(name, TensorProto.Types.DataType.Uint8, values, dims);

    /// <summary>A float32 input or output <c>[batch, d1, d2, ...]</c> with a symbolic batch dimension.</summary>
    public static ValueInfoProto FloatValue(string name, params long[] fixedDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        foreach (long d in fixedDims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A model around a graph, with its operator sets and metadata.</summary>
    public static ModelProto Model(GraphProto graph, IReadOnlyDictionary<string, string> metadata, bool usesMicrosoftDomain)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "FacialKeypoints.NET",
            ProducerVersion = typeof(OnnxProto).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        if (usesMicrosoftDomain)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        }

        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }

        return model;
    }

    /// <summary>Writes a model atomically: to a temporary file beside <paramref name="path"/>, then renamed over it.</summary>
    public static void Write(ModelProto model, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = full + ".tmp-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                model.WriteTo(stream);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static TensorProto Tensor(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }
}
