using FacialKeypoints.Data.Runtime;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Checkpoints;

/// <summary>
/// Named tensors plus string metadata in a safetensors file, for networks other than the keypoint network (whose
/// checkpoints, with their fixed metadata, are <see cref="KeypointCheckpoint"/>). Writes atomically; reads from a
/// file or any seekable stream (an embedded resource, for example) and checks names and shapes before copying.
/// </summary>
public static class WeightsFile
{
    /// <summary>Writes tensors and metadata: to a temporary file beside <paramref name="path"/>, then renamed over it.</summary>
    /// <param name="path">The file to write; its folder is created when missing.</param>
    /// <param name="tensors">Names and values (float types are stored as float32 or float16; int64 as is).</param>
    /// <param name="metadata">String metadata; the key <c>__metadata__</c> is reserved.</param>
    /// <param name="precision">Float storage precision.</param>
    /// <exception cref="ArgumentException">A name repeats or a metadata key is reserved.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata, CheckpointPrecision precision = CheckpointPrecision.Float32)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        TorchRuntime.EnsureInitialized();
        if (metadata.ContainsKey(SafeTensors.MetadataKey))
        {
            throw new ArgumentException($"The metadata key '{SafeTensors.MetadataKey}' is reserved.", nameof(metadata));
        }

        var stored = new List<KeyValuePair<string, SafeTensor>>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var (name, value) in tensors)
            {
                if (!names.Add(name))
                {
                    throw new ArgumentException($"The tensor name '{name}' appears twice.", nameof(tensors));
                }

                stored.Add(new(name, ToSafeTensor(value, precision == CheckpointPrecision.Float16)));
            }
        }

        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                SafeTensors.Write(stream, stored, metadata);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Reads the metadata and tensor shapes of a weights file without its data.</summary>
    /// <param name="stream">A seekable stream positioned anywhere.</param>
    /// <param name="source">The file or resource name, for messages.</param>
    /// <returns>The metadata and each tensor's shape.</returns>
    /// <exception cref="ModelFormatException">The stream is not a well-formed safetensors file.</exception>
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyDictionary<string, long[]> Shapes) ReadHeader(Stream stream, string source)
    {
        var header = Header(stream, source);
        return (header.Metadata, header.Entries.ToDictionary(e => e.Key, e => e.Value.Shape, StringComparer.Ordinal));
    }

    /// <summary>
    /// Copies a weights file's tensors into <paramref name="targets"/>: the names must match exactly (none missing,
    /// none extra) and every shape must agree; nothing is copied otherwise.
    /// </summary>
    /// <param name="stream">A seekable stream positioned anywhere.</param>
    /// <param name="source">The file or resource name, for messages.</param>
    /// <param name="targets">The tensors to fill, by name (for example a module's <c>state_dict()</c>, filtered).</param>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="ModelFormatException">The stream is not a safetensors file, is truncated, or does not fit the targets.</exception>
    public static IReadOnlyDictionary<string, string> LoadInto(Stream stream, string source, IReadOnlyDictionary<string, Tensor> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        TorchRuntime.EnsureInitialized();
        var header = Header(stream, source);
        CopyInto(stream, source, header, targets);
        return header.Metadata;
    }

    /// <summary>Checks that the file's tensors match <paramref name="targets"/> by name and shape, then copies them.</summary>
    internal static void CopyInto(Stream stream, string source, SafeTensorsHeader header, IReadOnlyDictionary<string, Tensor> targets)
    {
        var missing = targets.Keys.Where(k => !header.Entries.ContainsKey(k)).ToList();
        var unexpected = header.Entries.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            static string Describe(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names.Take(8)) + (names.Count > 8 ? $" and {names.Count - 8} more" : string.Empty);
            throw new ModelFormatException(source, $"the tensors do not match the network: missing {Describe(missing)}; unexpected {Describe(unexpected)}.");
        }

        foreach (var (name, target) in targets)
        {
            var entry = header.Entries[name];
            if (!entry.Shape.SequenceEqual(target.shape))
            {
                throw new ModelFormatException(source, $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}] but the network needs [{string.Join(", ", target.shape)}].");
            }
        }

        using (no_grad())
        {
            foreach (var (name, target) in targets)
            {
                SafeTensor stored;
                try
                {
                    stored = SafeTensors.ReadTensor(stream, header, name);
                }
                catch (EndOfStreamException e)
                {
                    throw new ModelFormatException(source, $"the file ends inside tensor '{name}' (truncated).", e);
                }

                using var value = target.dtype == ScalarType.Int64 ? tensor(stored.ToLongs(), stored.Shape) : tensor(stored.ToFloats(), stored.Shape);
                target.copy_(value);
            }
        }

    }

    /// <summary>Reads the header, turning a malformed file into a <see cref="ModelFormatException"/> naming <paramref name="source"/>.</summary>
    internal static SafeTensorsHeader Header(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (!stream.CanSeek)
        {
            throw new ArgumentException("The stream must be seekable.", nameof(stream));
        }

        try
        {
            return SafeTensors.ReadHeader(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new ModelFormatException(source, e.Message, e);
        }
    }

    internal static SafeTensor ToSafeTensor(Tensor value, bool half)
    {
        long[] shape = value.shape;
        using var cpu = value.detach().cpu().contiguous();
        if (cpu.dtype == ScalarType.Int64)
        {
            return SafeTensor.FromLongs(shape, cpu.data<long>().ToArray());
        }

        using var asFloat = cpu.to_type(ScalarType.Float32);
        return SafeTensor.FromFloats(shape, asFloat.data<float>().ToArray(), half);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
