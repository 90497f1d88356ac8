using FacialKeypoints.Data.Transforms;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Checkpoints;

/// <summary>
/// Saves and loads <see cref="KeypointNetwork"/> weights as safetensors files whose <c>__metadata__</c> holds a
/// <see cref="ModelMetadata"/> (keys prefixed <c>fkp.</c>), so a file alone rebuilds and feeds its network.
/// Tensor names are the network's state-dict names (<c>backbone.conv1.weight</c>, <c>head.output.bias</c>, ...).
/// </summary>
public static class KeypointCheckpoint
{
    /// <summary>The usual file extension.</summary>
    public const string FileExtension = ".safetensors";

    /// <summary>The metadata format version this library writes and reads.</summary>
    public const string FormatVersion = "1";

    private const string Prefix = "fkp.";
    private const string FormatKey = "fkp.format";
    private const string ArchitectureKey = "fkp.architecture";
    private const string LayoutKey = "fkp.layout";
    private const string KeypointCountKey = "fkp.keypoint_count";
    private const string HeadKindKey = "fkp.head.kind";
    private const string HeadSettingPrefix = "fkp.head.setting.";
    private const string InputHeightKey = "fkp.input_height";
    private const string InputWidthKey = "fkp.input_width";
    internal const string MeanKey = "fkp.normalization.mean";
    internal const string StdKey = "fkp.normalization.std";
    private const string SchemeKey = "fkp.scheme";
    private const string FlipKey = "fkp.flip_permutation";
    private const string LibraryVersionKey = "fkp.library_version";
    private const string PrecisionKey = "fkp.precision";

    /// <summary>
    /// Writes the network's parameters and buffers with <paramref name="metadata"/>, atomically: to a temporary
    /// file beside <paramref name="path"/>, then renamed over it, so readers never see a partial file.
    /// </summary>
    /// <param name="path">The file to write; its folder is created when missing.</param>
    /// <param name="model">The network; unchanged.</param>
    /// <param name="metadata">Input size, normalisation, scheme and extra values.</param>
    /// <param name="precision">Store floating-point weights as float32 or float16.</param>
    /// <returns>The metadata as written, with the fields that describe the network filled in.</returns>
    /// <exception cref="ArgumentException">The metadata is invalid or contradicts the model (keypoint count, flip permutation, extra keys).</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static ModelMetadata Save(string path, KeypointNetwork model, ModelMetadata metadata, CheckpointPrecision precision = CheckpointPrecision.Float32)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        var stored = Complete(metadata, model, precision);
        var header = ToDictionary(stored);

        WeightsFile.Save(path, model.state_dict(), header, precision);
        return stored;
    }

    /// <summary>Reads only the metadata of a checkpoint.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a FacialKeypoints safetensors checkpoint.</exception>
    public static ModelMetadata ReadMetadata(string path)
    {
        using var stream = OpenRead(path);
        return ParseMetadata(path, WeightsFile.Header(stream, path));
    }

    /// <summary>Builds a network from a checkpoint's metadata (a <see cref="ReferenceHead"/>) and loads its weights.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>The network on the CPU in evaluation mode, owned by the caller, and its metadata.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a checkpoint, is damaged, or its head is not a <see cref="ReferenceHead"/>.</exception>
    public static (KeypointNetwork Model, ModelMetadata Metadata) Load(string path) => Load(path, headFactory: null);

    /// <summary>Builds a network from a checkpoint's metadata and loads its weights.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="headFactory">Builds the head from the metadata (for custom heads); null builds the <see cref="ReferenceHead"/> or <see cref="SpatialHead"/> the metadata names.</param>
    /// <returns>The network on the CPU in evaluation mode, owned by the caller, and its metadata.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a checkpoint, is damaged, or does not fit the head built for it.</exception>
    public static (KeypointNetwork Model, ModelMetadata Metadata) Load(string path, Func<ModelMetadata, KeypointHead>? headFactory)
    {
        TorchRuntime.EnsureInitialized();
        using var stream = OpenRead(path);
        var header = WeightsFile.Header(stream, path);
        var metadata = ParseMetadata(path, header);
        KeypointHead head;
        if (headFactory is not null)
        {
            head = headFactory(metadata);
        }
        else if (metadata.HeadKind == ReferenceHead.HeadKind)
        {
            try
            {
                head = new ReferenceHead(ResNet18Backbone.FeatureCount, metadata.KeypointCount, ReferenceHead.OptionsFromSettings(metadata.HeadSettings));
            }
            catch (Exception e) when (e is FormatException or OverflowException or ValidationException)
            {
                throw new ModelFormatException(path, $"the reference head settings are invalid: {e.Message}", e);
            }
        }
        else if (metadata.HeadKind == SpatialHead.HeadKind)
        {
            try
            {
                head = SpatialHead.FromSettings(ResNet18Backbone.FeatureCount, metadata.KeypointCount, metadata.HeadSettings);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
            {
                throw new ModelFormatException(path, $"the spatial head settings are invalid: {e.Message}", e);
            }
        }
        else
        {
            throw new ModelFormatException(path, $"the head kind is '{metadata.HeadKind}'; pass a head factory to build it.");
        }

        var model = new KeypointNetwork(new ResNet18Backbone(metadata.Layout), head);
        try
        {
            LoadWeights(path, stream, header, metadata, model);
            model.eval();
            return (model, metadata);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads a checkpoint's weights into an existing network (on any device), checking that it fits.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="model">The network to fill.</param>
    /// <returns>The checkpoint's metadata.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a checkpoint, is damaged, or describes a different network.</exception>
    public static ModelMetadata LoadInto(string path, KeypointNetwork model)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentNullException.ThrowIfNull(model);
        using var stream = OpenRead(path);
        var header = WeightsFile.Header(stream, path);
        var metadata = ParseMetadata(path, header);
        LoadWeights(path, stream, header, metadata, model);
        return metadata;
    }

    internal static ModelMetadata Complete(ModelMetadata metadata, KeypointNetwork model, CheckpointPrecision precision)
    {
        Validator.ValidateObject(metadata, new ValidationContext(metadata), validateAllProperties: true);
        if (metadata.KeypointCount != 0 && metadata.KeypointCount != model.KeypointCount)
        {
            throw new ArgumentException(
                $"The metadata says {metadata.KeypointCount} keypoints but the model predicts {model.KeypointCount}.", nameof(metadata));
        }

        if (metadata.FlipPermutation is { } flip)
        {
            if (flip.Count != model.KeypointCount)
            {
                throw new ArgumentException(
                    $"The flip permutation has {flip.Count} entries but the model predicts {model.KeypointCount} keypoints.", nameof(metadata));
            }

            if (flip.Any(i => i < 0 || i >= flip.Count) || Enumerable.Range(0, flip.Count).Any(i => flip[flip[i]] != i))
            {
                throw new ArgumentException("The flip permutation is not an involution over 0..K-1.", nameof(metadata));
            }
        }

        foreach (string key in metadata.Extra.Keys)
        {
            if (string.IsNullOrEmpty(key) || key.StartsWith(Prefix, StringComparison.Ordinal) || key == SafeTensors.MetadataKey)
            {
                throw new ArgumentException($"Extra metadata key '{key}' is empty or reserved ({Prefix}*).", nameof(metadata));
            }
        }

        string version = typeof(KeypointCheckpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(KeypointCheckpoint).Assembly.GetName().Version?.ToString() ?? "unknown";
        return metadata with
        {
            Architecture = ModelMetadata.ResNet18Architecture,
            Layout = model.Backbone.Layout,
            KeypointCount = model.KeypointCount,
            HeadKind = model.Head.Kind,
            HeadSettings = new Dictionary<string, string>(model.Head.Settings, StringComparer.Ordinal),
            LibraryVersion = version,
            Precision = precision,
        };
    }

    internal static Dictionary<string, string> ToDictionary(ModelMetadata m)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [FormatKey] = FormatVersion,
            [ArchitectureKey] = m.Architecture,
            [LayoutKey] = m.Layout.ToBlocksText(),
            [KeypointCountKey] = Invariant(m.KeypointCount),
            [HeadKindKey] = m.HeadKind,
            [InputHeightKey] = Invariant(m.InputHeight),
            [InputWidthKey] = Invariant(m.InputWidth),
            [MeanKey] = FormatList(m.Normalization.Mean),
            [StdKey] = FormatList(m.Normalization.Std),
            [LibraryVersionKey] = m.LibraryVersion ?? string.Empty,
            [PrecisionKey] = m.Precision == CheckpointPrecision.Float16 ? "float16" : "float32",
        };
        foreach (var (key, value) in m.HeadSettings)
        {
            d[HeadSettingPrefix + key] = value;
        }

        if (m.SchemeName is not null)
        {
            d[SchemeKey] = m.SchemeName;
        }

        if (m.FlipPermutation is not null)
        {
            d[FlipKey] = string.Join(",", m.FlipPermutation.Select(Invariant));
        }

        foreach (var (key, value) in m.Extra)
        {
            d[key] = value;
        }

        return d;
    }

    private static ModelMetadata ParseMetadata(string path, SafeTensorsHeader header)
    {
        var d = header.Metadata;
        if (!d.TryGetValue(FormatKey, out string? format))
        {
            throw new ModelFormatException(path, "a safetensors file without FacialKeypoints metadata (no fkp.format); it is not a keypoint checkpoint.");
        }

        if (format != FormatVersion)
        {
            throw new ModelFormatException(path, $"metadata format {format} is not supported (this library reads {FormatVersion}).");
        }

        string Get(string key) => d.TryGetValue(key, out string? value)
            ? value
            : throw new ModelFormatException(path, $"the metadata lacks '{key}'.");

        try
        {
            string architecture = Get(ArchitectureKey);
            if (architecture != ModelMetadata.ResNet18Architecture)
            {
                throw new ModelFormatException(path, $"architecture '{architecture}' is not supported (expected {ModelMetadata.ResNet18Architecture}).");
            }

            int keypoints = ParseInt(Get(KeypointCountKey));
            if (keypoints <= 0)
            {
                throw new FormatException($"keypoint count {keypoints} is not positive.");
            }

            return new ModelMetadata
            {
                Architecture = architecture,
                Layout = ResNet18LayoutExtensions.ParseBlocksPerStage(Get(LayoutKey)),
                KeypointCount = keypoints,
                HeadKind = Get(HeadKindKey),
                HeadSettings = d.Where(kv => kv.Key.StartsWith(HeadSettingPrefix, StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key[HeadSettingPrefix.Length..], kv => kv.Value, StringComparer.Ordinal),
                InputHeight = ParseInt(Get(InputHeightKey)),
                InputWidth = ParseInt(Get(InputWidthKey)),
                Normalization = new NormalizationSpec(ParseFloats(Get(MeanKey)), ParseFloats(Get(StdKey))),
                SchemeName = d.GetValueOrDefault(SchemeKey),
                FlipPermutation = d.TryGetValue(FlipKey, out string? flip)
                    ? [.. flip.Split(',').Select(ParseInt)]
                    : null,
                LibraryVersion = d.GetValueOrDefault(LibraryVersionKey),
                Precision = Get(PrecisionKey) switch
                {
                    "float32" => CheckpointPrecision.Float32,
                    "float16" => CheckpointPrecision.Float16,
                    string other => throw new FormatException($"precision '{other}' is unknown."),
                },
                Extra = d.Where(kv => !kv.Key.StartsWith(Prefix, StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new ModelFormatException(path, $"the metadata is invalid: {e.Message}", e);
        }
    }

    private static void LoadWeights(string path, FileStream stream, SafeTensorsHeader header, ModelMetadata metadata, KeypointNetwork model)
    {
        if (metadata.KeypointCount != model.KeypointCount)
        {
            throw new ModelFormatException(
                path, $"the checkpoint predicts {metadata.KeypointCount} keypoints but the model {model.KeypointCount}.");
        }

        if (metadata.Layout != model.Backbone.Layout)
        {
            throw new ModelFormatException(
                path, $"the checkpoint's backbone layout is {metadata.Layout.ToBlocksText()} but the model's {model.Backbone.Layout.ToBlocksText()}.");
        }

        WeightsFile.CopyInto(stream, path, header, model.state_dict());
    }

    private static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The checkpoint '{path}' does not exist.", path);
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int ParseInt(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>A comma-separated list of invariant-culture floats, as the metadata stores them.</summary>
    internal static float[] ParseFloats(string text) =>
        [.. text.Split(',').Select(s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture))];

    private static string FormatList(IEnumerable<float> values) =>
        string.Join(",", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
}
