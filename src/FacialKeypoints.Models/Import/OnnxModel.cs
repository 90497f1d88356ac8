using System.Buffers.Binary;
using System.Text;

namespace FacialKeypoints.Models.Import;

/// <summary>
/// The parts of an ONNX <c>ModelProto</c> that the ResNet importer needs: the graph's nodes, its inputs and
/// outputs and its float initialisers. A small protobuf wire-format reader, so the library needs no
/// protobuf runtime; fields it does not know are skipped.
/// </summary>
internal sealed class OnnxModel
{
    private OnnxModel(
        long irVersion,
        IReadOnlyList<long> opsetVersions,
        string producer,
        IReadOnlyList<OnnxNode> nodes,
        IReadOnlyDictionary<string, OnnxTensor> initializers,
        IReadOnlyList<OnnxValueInfo> inputs,
        IReadOnlyList<OnnxValueInfo> outputs)
    {
        IrVersion = irVersion;
        OpsetVersions = opsetVersions;
        Producer = producer;
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
    }

    public long IrVersion { get; }

    public IReadOnlyList<long> OpsetVersions { get; }

    public string Producer { get; }

    public IReadOnlyList<OnnxNode> Nodes { get; }

    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }

    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Parses a model file.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an ONNX model with a graph.</exception>
    public static OnnxModel Parse(byte[] bytes)
    {
        long irVersion = 0;
        string producer = string.Empty;
        var opsets = new List<long>();
        ReadOnlyMemory<byte>? graph = null;

        var reader = new ProtoReader(bytes);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.Varint:
                    irVersion = (long)reader.ReadVarint();
                    break;
                case 2 when wire == ProtoReader.LengthDelimited:
                    producer = reader.ReadString();
                    break;
                case 7 when wire == ProtoReader.LengthDelimited:
                    graph = reader.ReadBytes();
                    break;
                case 8 when wire == ProtoReader.LengthDelimited:
                    opsets.Add(ReadOpset(reader.ReadBytes()));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (graph is null || irVersion <= 0)
        {
            throw new InvalidDataException("the file is not an ONNX model (no ir_version or graph field).");
        }

        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var graphReader = new ProtoReader(graph.Value);
        while (graphReader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited:
                    nodes.Add(ReadNode(graphReader.ReadBytes()));
                    break;
                case 5 when wire == ProtoReader.LengthDelimited:
                    var tensor = ReadTensor(graphReader.ReadBytes());
                    initializers[tensor.Name] = tensor;
                    break;
                case 11 when wire == ProtoReader.LengthDelimited:
                    inputs.Add(ReadValueInfo(graphReader.ReadBytes()));
                    break;
                case 12 when wire == ProtoReader.LengthDelimited:
                    outputs.Add(ReadValueInfo(graphReader.ReadBytes()));
                    break;
                default:
                    graphReader.Skip(wire);
                    break;
            }
        }

        return new OnnxModel(irVersion, opsets, producer, nodes, initializers, inputs, outputs);
    }

    private static long ReadOpset(ReadOnlyMemory<byte> bytes)
    {
        long version = 0;
        var reader = new ProtoReader(bytes);
        while (reader.Next(out int field, out int wire))
        {
            if (field == 2 && wire == ProtoReader.Varint)
            {
                version = (long)reader.ReadVarint();
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return version;
    }

    private static OnnxNode ReadNode(ReadOnlyMemory<byte> bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = string.Empty;
        string opType = string.Empty;
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        var reader = new ProtoReader(bytes);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited:
                    inputs.Add(reader.ReadString());
                    break;
                case 2 when wire == ProtoReader.LengthDelimited:
                    outputs.Add(reader.ReadString());
                    break;
                case 3 when wire == ProtoReader.LengthDelimited:
                    name = reader.ReadString();
                    break;
                case 4 when wire == ProtoReader.LengthDelimited:
                    opType = reader.ReadString();
                    break;
                case 5 when wire == ProtoReader.LengthDelimited:
                    var attribute = ReadAttribute(reader.ReadBytes());
                    attributes[attribute.Name] = attribute;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OnnxNode(name, opType, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ReadOnlyMemory<byte> bytes)
    {
        string name = string.Empty;
        float? f = null;
        long? i = null;
        var ints = new List<long>();
        var reader = new ProtoReader(bytes);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited:
                    name = reader.ReadString();
                    break;
                case 2 when wire == ProtoReader.Fixed32:
                    f = reader.ReadFloat();
                    break;
                case 3 when wire == ProtoReader.Varint:
                    i = (long)reader.ReadVarint();
                    break;
                case 8 when wire == ProtoReader.Varint:
                    ints.Add((long)reader.ReadVarint());
                    break;
                case 8 when wire == ProtoReader.LengthDelimited:
                    var packed = new ProtoReader(reader.ReadBytes());
                    while (!packed.AtEnd)
                    {
                        ints.Add((long)packed.ReadVarint());
                    }

                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OnnxAttribute(name, f, i, ints);
    }

    private static OnnxTensor ReadTensor(ReadOnlyMemory<byte> bytes)
    {
        var dims = new List<long>();
        int dataType = 0;
        string name = string.Empty;
        ReadOnlyMemory<byte> raw = ReadOnlyMemory<byte>.Empty;
        var floats = new List<float>();
        var reader = new ProtoReader(bytes);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.Varint:
                    dims.Add((long)reader.ReadVarint());
                    break;
                case 1 when wire == ProtoReader.LengthDelimited:
                    var packedDims = new ProtoReader(reader.ReadBytes());
                    while (!packedDims.AtEnd)
                    {
                        dims.Add((long)packedDims.ReadVarint());
                    }

                    break;
                case 2 when wire == ProtoReader.Varint:
                    dataType = (int)reader.ReadVarint();
                    break;
                case 4 when wire == ProtoReader.Fixed32:
                    floats.Add(reader.ReadFloat());
                    break;
                case 4 when wire == ProtoReader.LengthDelimited:
                    var packedFloats = reader.ReadBytes().Span;
                    for (int k = 0; k + 4 <= packedFloats.Length; k += 4)
                    {
                        floats.Add(BinaryPrimitives.ReadSingleLittleEndian(packedFloats[k..]));
                    }

                    break;
                case 8 when wire == ProtoReader.LengthDelimited:
                    name = reader.ReadString();
                    break;
                case 9 when wire == ProtoReader.LengthDelimited:
                    raw = reader.ReadBytes();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new OnnxTensor(name, dataType, dims.ToArray(), raw, floats.Count > 0 ? floats.ToArray() : null);
    }

    private static OnnxValueInfo ReadValueInfo(ReadOnlyMemory<byte> bytes)
    {
        string name = string.Empty;
        var shape = new List<long>();
        var reader = new ProtoReader(bytes);
        while (reader.Next(out int field, out int wire))
        {
            if (field == 1 && wire == ProtoReader.LengthDelimited)
            {
                name = reader.ReadString();
            }
            else if (field == 2 && wire == ProtoReader.LengthDelimited)
            {
                // TypeProto.tensor_type (1) -> shape (2) -> dim (1) -> dim_value (1).
                var type = new ProtoReader(reader.ReadBytes());
                while (type.Next(out int tf, out int tw))
                {
                    if (tf != 1 || tw != ProtoReader.LengthDelimited)
                    {
                        type.Skip(tw);
                        continue;
                    }

                    var tensorType = new ProtoReader(type.ReadBytes());
                    while (tensorType.Next(out int sf, out int sw))
                    {
                        if (sf != 2 || sw != ProtoReader.LengthDelimited)
                        {
                            tensorType.Skip(sw);
                            continue;
                        }

                        var shapeReader = new ProtoReader(tensorType.ReadBytes());
                        while (shapeReader.Next(out int df, out int dw))
                        {
                            if (df != 1 || dw != ProtoReader.LengthDelimited)
                            {
                                shapeReader.Skip(dw);
                                continue;
                            }

                            long value = -1;
                            var dim = new ProtoReader(shapeReader.ReadBytes());
                            while (dim.Next(out int vf, out int vw))
                            {
                                if (vf == 1 && vw == ProtoReader.Varint)
                                {
                                    value = (long)dim.ReadVarint();
                                }
                                else
                                {
                                    dim.Skip(vw);
                                }
                            }

                            shape.Add(value);
                        }
                    }
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return new OnnxValueInfo(name, shape);
    }
}

/// <summary>One graph node: operator type, input and output value names, attributes.</summary>
internal sealed record OnnxNode(
    string Name,
    string OpType,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes);

/// <summary>A node attribute; only float, int and ints values are kept.</summary>
internal sealed record OnnxAttribute(string Name, float? Float, long? Int, IReadOnlyList<long> Ints);

/// <summary>A graph input or output with its static shape (-1 for a symbolic dimension).</summary>
internal sealed record OnnxValueInfo(string Name, IReadOnlyList<long> Shape);

/// <summary>An initialiser tensor; float data is held raw until asked for.</summary>
internal sealed class OnnxTensor
{
    /// <summary>ONNX <c>TensorProto.DataType.FLOAT</c>.</summary>
    public const int FloatType = 1;

    private readonly ReadOnlyMemory<byte> raw;
    private readonly float[]? floats;

    public OnnxTensor(string name, int dataType, long[] dims, ReadOnlyMemory<byte> raw, float[]? floats)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        this.raw = raw;
        this.floats = floats;
    }

    public string Name { get; }

    public int DataType { get; }

    public long[] Dims { get; }

    public long ElementCount => Dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>The values as float32.</summary>
    /// <exception cref="InvalidDataException">The tensor is not float or its data length does not fit its shape.</exception>
    public float[] ToFloatArray()
    {
        if (DataType != FloatType)
        {
            throw new InvalidDataException($"initialiser '{Name}' has ONNX data type {DataType}, not float.");
        }

        long count = ElementCount;
        if (floats is not null)
        {
            return floats.Length == count
                ? floats
                : throw new InvalidDataException($"initialiser '{Name}' holds {floats.Length} floats for shape [{string.Join(",", Dims)}].");
        }

        if (raw.Length != count * 4)
        {
            throw new InvalidDataException($"initialiser '{Name}' holds {raw.Length} bytes for shape [{string.Join(",", Dims)}].");
        }

        var result = new float[count];
        var span = raw.Span;
        for (int k = 0; k < result.Length; k++)
        {
            result[k] = BinaryPrimitives.ReadSingleLittleEndian(span[(k * 4)..]);
        }

        return result;
    }
}

/// <summary>Reads protobuf wire format from a buffer.</summary>
internal struct ProtoReader
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private readonly ReadOnlyMemory<byte> buffer;
    private int position;

    public ProtoReader(ReadOnlyMemory<byte> buffer)
    {
        this.buffer = buffer;
        position = 0;
    }

    public readonly bool AtEnd => position >= buffer.Length;

    public bool Next(out int field, out int wire)
    {
        if (AtEnd)
        {
            field = 0;
            wire = 0;
            return false;
        }

        ulong key = ReadVarint();
        field = (int)(key >> 3);
        wire = (int)(key & 7);
        if (field <= 0)
        {
            throw new InvalidDataException("malformed protobuf (field number 0).");
        }

        return true;
    }

    public ulong ReadVarint()
    {
        var span = buffer.Span;
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw new InvalidDataException("malformed protobuf (truncated varint).");
            }

            byte b = span[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }

        throw new InvalidDataException("malformed protobuf (varint too long).");
    }

    public ReadOnlyMemory<byte> ReadBytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(buffer.Length - position))
        {
            throw new InvalidDataException("malformed protobuf (length past the end).");
        }

        var slice = buffer.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes().Span);

    public float ReadFloat()
    {
        Require(4);
        float value = BinaryPrimitives.ReadSingleLittleEndian(buffer.Span[position..]);
        position += 4;
        return value;
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Require(8);
                position += 8;
                break;
            case LengthDelimited:
                ReadBytes();
                break;
            case Fixed32:
                Require(4);
                position += 4;
                break;
            default:
                throw new InvalidDataException($"malformed protobuf (wire type {wire}).");
        }
    }

    private readonly void Require(int count)
    {
        if (buffer.Length - position < count)
        {
            throw new InvalidDataException("malformed protobuf (truncated field).");
        }
    }
}
