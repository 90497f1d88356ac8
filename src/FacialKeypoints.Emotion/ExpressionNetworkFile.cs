using System.Globalization;
using System.Reflection;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;

namespace FacialKeypoints.Emotion;

/// <summary>What an <see cref="ExpressionNetwork"/> needs besides its weights: its classes, crop and test-time mirroring.</summary>
/// <param name="Stages">ResNet-18 stages kept (3 or 4).</param>
/// <param name="Classes">The class of each output, in order.</param>
/// <param name="Crop">The aligned crop the network reads.</param>
/// <param name="MirrorAverage">Whether predictions average the crop and its mirror image.</param>
public sealed record ExpressionNetworkSpec(int Stages, IReadOnlyList<ExpressionLabel> Classes, CropSpec Crop, bool MirrorAverage);

/// <summary>
/// Saves and loads an <see cref="ExpressionNetwork"/> with its <see cref="ExpressionNetworkSpec"/> as a safetensors
/// file (only the stages that run are stored), and loads the network shipped inside this package.
/// </summary>
public static class ExpressionNetworkFile
{
    /// <summary>The manifest name of the shipped network.</summary>
    public const string EmbeddedResourceName = "FacialKeypoints.Emotion.expression-network.safetensors";

    private const string FormatKey = "fkp.expression.format";
    private const string FormatVersion = "1";
    private const string StagesKey = "fkp.expression.stages";
    private const string ClassesKey = "fkp.expression.classes";
    private const string CropKey = "fkp.expression.crop";
    private const string MirrorKey = "fkp.expression.mirror";

    /// <summary>Writes the network's used weights and the spec (plus free-form notes) atomically.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="network">The network.</param>
    /// <param name="spec">Its classes, crop and mirroring; the stage count must match the network.</param>
    /// <param name="notes">Extra metadata such as the fit settings, or null; keys may not start with <c>fkp.</c>.</param>
    /// <param name="precision">Float storage; float16 halves the file with no measurable change in the probabilities.</param>
    /// <exception cref="ArgumentException">The spec contradicts the network or a note key is reserved.</exception>
    public static void Save(string path, ExpressionNetwork network, ExpressionNetworkSpec spec, IReadOnlyDictionary<string, string>? notes = null, CheckpointPrecision precision = CheckpointPrecision.Float16)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Crop.Validate();
        if (spec.Stages != network.Stages || spec.Classes.Count != network.ClassCount)
        {
            throw new ArgumentException($"The spec ({spec.Stages} stages, {spec.Classes.Count} classes) does not describe the network ({network.Stages} stages, {network.ClassCount} classes).", nameof(spec));
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in notes ?? new Dictionary<string, string>())
        {
            if (key.StartsWith("fkp.", StringComparison.Ordinal))
            {
                throw new ArgumentException($"The note key '{key}' is reserved (fkp.*).", nameof(notes));
            }

            metadata[key] = value;
        }

        metadata[FormatKey] = FormatVersion;
        metadata[StagesKey] = spec.Stages.ToString(CultureInfo.InvariantCulture);
        metadata[ClassesKey] = string.Join(",", spec.Classes.Select(c => c.ToName()));
        metadata[CropKey] = string.Create(CultureInfo.InvariantCulture, $"{spec.Crop.CenterU:R},{spec.Crop.CenterV:R},{spec.Crop.Extent:R},{spec.Crop.Size}");
        metadata[MirrorKey] = spec.MirrorAverage ? "true" : "false";
        WeightsFile.Save(path, UsedTensors(network), metadata, precision);
    }

    /// <summary>Loads a network file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The network in evaluation mode (owned by the caller), its spec and its notes.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not an expression network or is damaged.</exception>
    public static (ExpressionNetwork Network, ExpressionNetworkSpec Spec, IReadOnlyDictionary<string, string> Notes) Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The expression network '{path}' does not exist.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Load(stream, path);
    }

    /// <summary>Loads a network from a seekable stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="source">Its file or resource name, for messages.</param>
    /// <returns>The network in evaluation mode (owned by the caller), its spec and its notes.</returns>
    /// <exception cref="ModelFormatException">The stream is not an expression network or is damaged.</exception>
    public static (ExpressionNetwork Network, ExpressionNetworkSpec Spec, IReadOnlyDictionary<string, string> Notes) Load(Stream stream, string source)
    {
        var (metadata, _) = WeightsFile.ReadHeader(stream, source);
        var spec = ParseSpec(metadata, source);
        var network = new ExpressionNetwork(spec.Stages, spec.Classes.Count, dropout: 0);
        try
        {
            WeightsFile.LoadInto(stream, source, UsedTensors(network).ToDictionary(StringComparer.Ordinal));
            network.eval();
            var notes = metadata.Where(kv => !kv.Key.StartsWith("fkp.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            return (network, spec, notes);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Loads the network shipped in this assembly.</summary>
    /// <returns>The network, its spec and its notes.</returns>
    /// <exception cref="InvalidOperationException">The assembly was built without the network file.</exception>
    public static (ExpressionNetwork Network, ExpressionNetworkSpec Spec, IReadOnlyDictionary<string, string> Notes) LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(EmbeddedResourceName)
            ?? throw new InvalidOperationException($"The resource {EmbeddedResourceName} is missing from {typeof(ExpressionNetworkFile).Assembly.GetName().Name}; it was built without Resources/expression-network.safetensors.");
        return Load(stream, EmbeddedResourceName);
    }

    private static IEnumerable<KeyValuePair<string, TorchSharp.torch.Tensor>> UsedTensors(ExpressionNetwork network) =>
        network.state_dict().Where(kv => network.IsUsed(kv.Key));

    private static ExpressionNetworkSpec ParseSpec(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue(FormatKey, out string? format))
        {
            throw new ModelFormatException(source, $"a safetensors file without {FormatKey}; it is not an expression network.");
        }

        if (format != FormatVersion)
        {
            throw new ModelFormatException(source, $"expression network format {format} is not supported (this library reads {FormatVersion}).");
        }

        string Get(string key) => metadata.TryGetValue(key, out string? value) ? value : throw new ModelFormatException(source, $"the metadata lacks '{key}'.");
        try
        {
            int stages = int.Parse(Get(StagesKey), NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (stages is < 3 or > 4)
            {
                throw new FormatException($"stage count {stages} is not 3 or 4.");
            }

            var classes = Get(ClassesKey).Split(',').Select(name => ExpressionLabels.Parse(name) ?? throw new FormatException($"class '{name}' cannot be an output.")).ToList();
            if (classes.Count < 2 || classes.Distinct().Count() != classes.Count)
            {
                throw new FormatException($"the classes '{Get(ClassesKey)}' are fewer than two or repeat.");
            }

            var parts = Get(CropKey).Split(',');
            if (parts.Length != 4)
            {
                throw new FormatException($"the crop '{Get(CropKey)}' is not u,v,extent,size.");
            }

            var crop = new CropSpec(
                float.Parse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture),
                float.Parse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture),
                float.Parse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture),
                int.Parse(parts[3], NumberStyles.Integer, CultureInfo.InvariantCulture));
            crop.Validate();
            bool mirror = Get(MirrorKey) switch
            {
                "true" => true,
                "false" => false,
                string other => throw new FormatException($"mirror '{other}' is not true or false."),
            };
            return new ExpressionNetworkSpec(stages, classes, crop, mirror);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new ModelFormatException(source, $"the metadata is invalid: {e.Message}", e);
        }
    }
}
