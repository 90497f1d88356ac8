namespace FacialKeypoints.Inference.Tests.Reliability;

/// <summary>
/// Adds <c>metadata_props</c> to an ONNX model's bytes without an ONNX library: <c>ModelProto</c> field 14 holds
/// <c>StringStringEntryProto { key = 1; value = 2; }</c> entries, and protobuf merges fields appended after a
/// message's end into it (a repeated field's entries are added), so the model keeps its graph and gains the entries.
/// </summary>
internal static class OnnxMetadata
{
    public static byte[] With(byte[] model, IEnumerable<KeyValuePair<string, string>> entries)
    {
        using var output = new MemoryStream();
        output.Write(model);
        foreach (var (key, value) in entries)
        {
            using var entry = new MemoryStream();
            WriteString(entry, 1, key);
            WriteString(entry, 2, value);
            WriteBytes(output, 14, entry.ToArray());
        }

        return output.ToArray();
    }

    private static void WriteString(Stream stream, int field, string text) => WriteBytes(stream, field, System.Text.Encoding.UTF8.GetBytes(text));

    private static void WriteBytes(Stream stream, int field, byte[] bytes)
    {
        WriteVarint(stream, ((ulong)field << 3) | 2); // wire type 2: length-delimited
        WriteVarint(stream, (ulong)bytes.Length);
        stream.Write(bytes);
    }

    private static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }

        stream.WriteByte((byte)value);
    }
}
