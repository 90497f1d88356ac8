using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace FacialKeypoints.Models.Checkpoints;

/// <summary>One tensor of a safetensors file as stored: data type, shape and raw little-endian bytes.</summary>
internal sealed record SafeTensor(string DType, long[] Shape, byte[] Data)
{
    public const string F32 = "F32";
    public const string F16 = "F16";
    public const string BF16 = "BF16";
    public const string I64 = "I64";

    public static int ElementSize(string dtype) => dtype switch
    {
        F32 => 4,
        F16 or BF16 => 2,
        I64 => 8,
        _ => 0,
    };

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Float32 or, when <paramref name="half"/>, float16, except for a tensor with a finite value beyond float16's
    /// range (65504), which stays float32: an ImageNet stem's batch-norm variance reaches 7e4 and would become
    /// infinity.
    /// </summary>
    public static SafeTensor FromFloats(long[] shape, float[] values, bool half)
    {
        if (!half || values.Any(v => float.IsFinite(v) && Math.Abs(v) > (float)Half.MaxValue))
        {
            return new SafeTensor(F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        }

        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        return new SafeTensor(F16, shape, MemoryMarshal.AsBytes(halves.AsSpan()).ToArray());
    }

    public static SafeTensor FromLongs(long[] shape, long[] values) =>
        new(I64, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public float[] ToFloats()
    {
        switch (DType)
        {
            case F32:
                return MemoryMarshal.Cast<byte, float>(Data).ToArray();
            case F16:
                var halves = MemoryMarshal.Cast<byte, Half>(Data);
                var fromHalf = new float[halves.Length];
                for (int i = 0; i < halves.Length; i++)
                {
                    fromHalf[i] = (float)halves[i];
                }

                return fromHalf;
            case BF16:
                var bits = MemoryMarshal.Cast<byte, ushort>(Data);
                var fromBf16 = new float[bits.Length];
                for (int i = 0; i < bits.Length; i++)
                {
                    fromBf16[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                }

                return fromBf16;
            case I64:
                return [.. MemoryMarshal.Cast<byte, long>(Data).ToArray().Select(v => (float)v)];
            default:
                throw new InvalidDataException($"unsupported dtype {DType}.");
        }
    }

    public long[] ToLongs() => DType == I64
        ? MemoryMarshal.Cast<byte, long>(Data).ToArray()
        : [.. ToFloats().Select(v => (long)v)];
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// tensor name to <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (plus an optional <c>__metadata__</c>
/// string map), then the raw little-endian tensor bytes.
/// </summary>
internal static class SafeTensors
{
    public const string MetadataKey = "__metadata__";
    private const long MaxHeaderLength = 100L * 1024 * 1024;

    /// <summary>Writes a file to <paramref name="stream"/>.</summary>
    public static void Write(
        Stream stream,
        IReadOnlyList<KeyValuePair<string, SafeTensor>> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors files are written on little-endian machines only.");
        }

        using var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            json.WriteStartObject(MetadataKey);
            foreach (var (key, value) in metadata)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", tensor.DType);
                json.WriteStartArray("shape");
                foreach (long d in tensor.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (headerBuffer.Length % 8 != 0)
        {
            headerBuffer.WriteByte((byte)' ');
        }

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBuffer.Length);
        stream.Write(length);
        headerBuffer.Position = 0;
        headerBuffer.CopyTo(stream);
        foreach (var (_, tensor) in tensors)
        {
            stream.Write(tensor.Data);
        }
    }

    /// <summary>Reads only the header: tensor entries and metadata.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    public static SafeTensorsHeader ReadHeader(Stream stream)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new InvalidDataException($"the file is {fileLength} bytes long, too short for a safetensors file.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > (ulong)MaxHeaderLength)
        {
            throw new InvalidDataException($"the header length field reads {headerLength}; this is not a safetensors file.");
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw new InvalidDataException($"the header needs {headerLength} bytes but the file has {fileLength - 8} after the length field (truncated?).");
        }

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(headerBytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("the header is not a JSON object.");
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String
                            ? item.Value.GetString()!
                            : throw new InvalidDataException($"metadata value '{item.Name}' is not a string.");
                    }

                    continue;
                }

                entries[property.Name] = ReadEntry(property.Name, property.Value, dataLength);
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the header is not valid JSON ({e.Message}); this is not a safetensors file.", e);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"the header has an unexpected structure ({e.Message}).", e);
        }
        catch (KeyNotFoundException e)
        {
            throw new InvalidDataException($"a header entry lacks a field ({e.Message}).", e);
        }
        catch (FormatException e)
        {
            // A shape or offset that is not a 64-bit integer (1.5, 1e30).
            throw new InvalidDataException($"a header entry has a number that is not a 64-bit integer ({e.Message}).", e);
        }

        return new SafeTensorsHeader(entries, metadata, dataStart);
    }

    /// <summary>Reads one tensor's bytes.</summary>
    public static SafeTensor ReadTensor(Stream stream, SafeTensorsHeader header, string name)
    {
        var entry = header.Entries[name];
        var data = new byte[entry.End - entry.Begin];
        stream.Position = header.DataStart + entry.Begin;
        stream.ReadExactly(data);
        return new SafeTensor(entry.DType, entry.Shape, data);
    }

    private static SafeTensorEntry ReadEntry(string name, JsonElement value, long dataLength)
    {
        string dtype = value.GetProperty("dtype").GetString() ?? string.Empty;
        long[] shape = [.. value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
        long[] offsets = [.. value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64())];
        int elementSize = SafeTensor.ElementSize(dtype);
        if (elementSize == 0)
        {
            throw new InvalidDataException($"tensor '{name}' has unsupported dtype '{dtype}'.");
        }

        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || shape.Any(d => d < 0))
        {
            throw new InvalidDataException($"tensor '{name}' has invalid shape or data offsets.");
        }

        if (offsets[1] > dataLength)
        {
            throw new InvalidDataException(
                $"tensor '{name}' ends at byte {offsets[1]} of the data but the file holds {dataLength} (truncated?).");
        }

        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * elementSize);
        }
        catch (OverflowException e)
        {
            throw new InvalidDataException($"tensor '{name}' has shape [{string.Join(", ", shape)}], more bytes than a file can hold.", e);
        }

        if (offsets[1] - offsets[0] != expected)
        {
            throw new InvalidDataException(
                $"tensor '{name}' spans {offsets[1] - offsets[0]} bytes but {dtype} [{string.Join(", ", shape)}] needs {expected}.");
        }

        return new SafeTensorEntry(dtype, shape, offsets[0], offsets[1]);
    }
}

/// <summary>A tensor's place in a safetensors file.</summary>
internal sealed record SafeTensorEntry(string DType, long[] Shape, long Begin, long End);

/// <summary>A parsed safetensors header.</summary>
internal sealed record SafeTensorsHeader(
    IReadOnlyDictionary<string, SafeTensorEntry> Entries,
    IReadOnlyDictionary<string, string> Metadata,
    long DataStart);
