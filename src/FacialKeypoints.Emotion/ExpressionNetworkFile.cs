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
/// One or more <see cref="ExpressionNetwork"/>s of the same design whose probabilities are averaged (an ensemble of
/// networks fitted with different seeds or settings), with their spec and notes. Owns the networks; dispose it.
/// </summary>
public sealed class ExpressionNetworkModel : IDisposable
{
    /// <summary>Wraps networks; takes ownership of them.</summary>
    /// <param name="members">The networks, at least one, all matching <paramref name="spec"/>.</param>
    /// <param name="spec">Their classes, crop and mirroring.</param>
    /// <param name="notes">Free-form metadata, or null.</param>
    /// <exception cref="ArgumentException">No member, or a member does not match the spec.</exception>
    public ExpressionNetworkModel(IReadOnlyList<ExpressionNetwork> members, ExpressionNetworkSpec spec, IReadOnlyDictionary<string, string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(spec);
        if (members.Count == 0)
        {
            throw new ArgumentException("A model needs at least one network.", nameof(members));
        }

        foreach (var network in members)
        {
            if (spec.Stages != network.Stages || spec.Classes.Count != network.ClassCount)
            {
                throw new ArgumentException($"The spec ({spec.Stages} stages, {spec.Classes.Count} classes) does not describe a member ({network.Stages} stages, {network.ClassCount} classes).", nameof(spec));
            }

            network.eval();
        }

        Members = [.. members];
        Spec = spec;
        Notes = notes ?? new Dictionary<string, string>();
    }

    /// <summary>The networks whose probabilities are averaged.</summary>
    public IReadOnlyList<ExpressionNetwork> Members { get; }

    /// <summary>Their classes, crop and mirroring.</summary>
    public ExpressionNetworkSpec Spec { get; }

    /// <summary>Free-form metadata (for the shipped model: how each member was fitted).</summary>
    public IReadOnlyDictionary<string, string> Notes { get; }

    /// <summary>Predicts faces: each member's probabilities (mirror-averaged when the spec says so), averaged.</summary>
    /// <param name="inputs">The faces; each needs its image (the networks read the crop the landmarks place).</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    /// <returns>One prediction per face.</returns>
    /// <exception cref="ArgumentException">An input lacks its image or its landmarks.</exception>
    public IReadOnlyList<ExpressionPrediction> Predict(IReadOnlyList<ExpressionInput> inputs, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var faces = new ExpressionFace[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
            faces[i] = new ExpressionFace(
                input.Image ?? throw new ArgumentException($"Input {i} has no image; the network classifier reads the face crop.", nameof(inputs)),
                input.Landmarks ?? throw new ArgumentException($"Input {i} has no landmarks.", nameof(inputs)),
                input.Scheme);
        }

        return Predict(faces, batchSize);
    }

    /// <summary>Predicts faces (see <see cref="Predict(IReadOnlyList{ExpressionInput}, int)"/>).</summary>
    internal IReadOnlyList<ExpressionPrediction> Predict(IReadOnlyList<ExpressionFace> faces, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(faces);
        var crops = NetworkPrediction.Crops(faces, 0, faces.Count, Spec.Crop);
        var perMember = Members.Select(m => NetworkPrediction.PredictCrops(m, Spec.Classes, crops, Spec.MirrorAverage, batchSize)).ToList();
        if (perMember.Count == 1)
        {
            return perMember[0];
        }

        var result = new ExpressionPrediction[faces.Count];
        Span<float> sum = stackalloc float[ExpressionLabels.Count];
        for (int i = 0; i < faces.Count; i++)
        {
            sum.Clear();
            foreach (var predictions in perMember)
            {
                foreach (var (label, p) in predictions[i].Probabilities)
                {
                    sum[(int)label] += p / perMember.Count;
                }
            }

            result[i] = ExpressionPrediction.FromProbabilities(sum);
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var network in Members)
        {
            network.Dispose();
        }
    }
}

/// <summary>
/// Saves and loads an <see cref="ExpressionNetworkModel"/> with its <see cref="ExpressionNetworkSpec"/> as a safetensors
/// file (only the stages that run are stored; member k's tensors are prefixed <c>member{k}.</c>), and loads the
/// model shipped inside this package.
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
    private const string MembersKey = "fkp.expression.members";

    /// <summary>Writes every member's used weights and the spec (plus the notes) atomically.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="model">The model.</param>
    /// <param name="precision">Float storage; float16 halves the file and moves probabilities by well under 0.01.</param>
    /// <exception cref="ArgumentException">A note key is reserved (<c>fkp.*</c>).</exception>
    public static void Save(string path, ExpressionNetworkModel model, CheckpointPrecision precision = CheckpointPrecision.Float16)
    {
        ArgumentNullException.ThrowIfNull(model);
        var spec = model.Spec;
        spec.Crop.Validate();
        var metadata = NotesMetadata(model.Notes, nameof(model));

        metadata[FormatKey] = FormatVersion;
        metadata[StagesKey] = spec.Stages.ToString(CultureInfo.InvariantCulture);
        metadata[ClassesKey] = string.Join(",", spec.Classes.Select(c => c.ToName()));
        metadata[CropKey] = string.Create(CultureInfo.InvariantCulture, $"{spec.Crop.CenterU:R},{spec.Crop.CenterV:R},{spec.Crop.Extent:R},{spec.Crop.Size}");
        metadata[MirrorKey] = spec.MirrorAverage ? "true" : "false";
        metadata[MembersKey] = model.Members.Count.ToString(CultureInfo.InvariantCulture);
        WeightsFile.Save(path, model.Members.SelectMany((m, k) => UsedTensors(m, k)), metadata, precision);
    }

    /// <summary>Loads a model file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model, owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not an expression network or is damaged.</exception>
    public static ExpressionNetworkModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The expression network '{path}' does not exist.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Load(stream, path);
    }

    /// <summary>Loads a model from a seekable stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="source">Its file or resource name, for messages.</param>
    /// <returns>The model, owned by the caller.</returns>
    /// <exception cref="ModelFormatException">The stream is not an expression network or is damaged.</exception>
    public static ExpressionNetworkModel Load(Stream stream, string source)
    {
        var (metadata, _) = WeightsFile.ReadHeader(stream, source);
        var spec = ParseSpec(metadata, source);
        int count = ParseMembers(metadata, source);
        var members = new List<ExpressionNetwork>();
        try
        {
            for (int k = 0; k < count; k++)
            {
                members.Add(new ExpressionNetwork(spec.Stages, spec.Classes.Count, dropout: 0));
            }

            WeightsFile.LoadInto(stream, source, members.SelectMany((m, k) => UsedTensors(m, k)).ToDictionary(StringComparer.Ordinal));
            var notes = metadata.Where(kv => !kv.Key.StartsWith("fkp.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            return new ExpressionNetworkModel(members, spec, notes);
        }
        catch
        {
            members.ForEach(m => m.Dispose());
            throw;
        }
    }

    /// <summary>Loads the model shipped in this assembly.</summary>
    /// <returns>The model, owned by the caller.</returns>
    /// <exception cref="InvalidOperationException">The assembly was built without the network file.</exception>
    public static ExpressionNetworkModel LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(EmbeddedResourceName)
            ?? throw new InvalidOperationException($"The resource {EmbeddedResourceName} is missing from {typeof(ExpressionNetworkFile).Assembly.GetName().Name}; it was built without Resources/expression-network.safetensors.");
        return Load(stream, EmbeddedResourceName);
    }

    private static IEnumerable<KeyValuePair<string, TorchSharp.torch.Tensor>> UsedTensors(ExpressionNetwork network, int member) =>
        network.state_dict().Where(kv => network.IsUsed(kv.Key)).Select(kv => new KeyValuePair<string, TorchSharp.torch.Tensor>($"member{member}.{kv.Key}", kv.Value));

    /// <summary>A copy of free-form notes to store as metadata, refusing the <c>fkp.</c> keys this library writes.</summary>
    internal static Dictionary<string, string> NotesMetadata(IReadOnlyDictionary<string, string>? notes, string parameterName)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in notes ?? new Dictionary<string, string>())
        {
            metadata[key.StartsWith("fkp.", StringComparison.Ordinal) ? throw new ArgumentException($"The note key '{key}' is reserved (fkp.*).", parameterName) : key] = value;
        }

        return metadata;
    }

    private static int ParseMembers(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue(MembersKey, out string? text) || !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int count) || count < 1 || count > 64)
        {
            throw new ModelFormatException(source, $"the metadata's '{MembersKey}' is missing or not a count in 1..64.");
        }

        return count;
    }

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
