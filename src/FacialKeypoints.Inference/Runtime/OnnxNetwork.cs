using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace FacialKeypoints.Inference.Runtime;

/// <summary>
/// One ONNX Runtime session with its single input and output, its metadata read once, and a run method over
/// plain float buffers. ONNX Runtime sessions may run from several threads at once, and this wrapper keeps no
/// per-call state, so it is thread-safe.
/// </summary>
internal sealed class OnnxNetwork : IDisposable
{
    private readonly InferenceSession session;
    private readonly string inputName;
    private readonly string outputName;

    private OnnxNetwork(InferenceSession session, string source)
    {
        this.session = session;
        Source = source;
        if (session.InputMetadata.Count != 1)
        {
            throw new InvalidDataException($"{source}: expected one input, found {session.InputMetadata.Count}.");
        }

        inputName = session.InputMetadata.Keys.Single();
        InputShape = session.InputMetadata[inputName].Dimensions;
        outputName = session.OutputMetadata.Keys.First();
        Metadata = session.ModelMetadata.CustomMetadataMap;
    }

    /// <summary>Where the model came from (a path or the embedded resource name), for messages.</summary>
    public string Source { get; }

    /// <summary>The input's dimensions (-1 for dynamic ones).</summary>
    public int[] InputShape { get; }

    /// <summary>The model's metadata_props.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The names of the outputs, in the model's order.</summary>
    public IReadOnlyList<string> OutputNames => [.. session.OutputMetadata.Keys];

    /// <summary>Opens a model from bytes.</summary>
    public static OnnxNetwork Open(byte[] model, string source, int threads)
    {
        using var options = CreateOptions(threads);
        try
        {
            return new OnnxNetwork(new InferenceSession(model, options), source);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{source}: not a usable ONNX model ({e.Message.Trim()}).", e);
        }
    }

    /// <summary>Opens a model file.</summary>
    public static OnnxNetwork Open(string path, int threads)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The model file '{path}' does not exist.", path);
        }

        return Open(File.ReadAllBytes(path), path, threads);
    }

    /// <summary>Runs the model on <paramref name="input"/> of the given shape and returns the first output (or all of them).</summary>
    public float[] Run(float[] input, long[] shape) => RunAll(input, shape)[0];

    /// <summary>Runs the model and returns every output, in the model's order.</summary>
    public float[][] RunAll(float[] input, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        var names = OutputNames;
        using var outputs = session.Run(runOptions, [inputName], [value], names);
        return [.. outputs.Select(o => o.GetTensorDataAsSpan<float>().ToArray())];
    }

    /// <summary>A required metadata value.</summary>
    public string Require(string key) =>
        Metadata.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new InvalidDataException($"{Source}: the model's metadata lacks '{key}'; export it with 'fkp export --onnx'.");

    /// <summary>A required integer metadata value in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int RequireInt(string key, int min, int max)
    {
        string text = Require(key);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw Invalid(key, text, $"an integer in {min}..{max}");
    }

    /// <summary>A required comma-separated list of finite numbers; of <paramref name="count"/> values unless it is 0.</summary>
    public float[] RequireFloats(string key, int count = 0)
    {
        string text = Require(key);
        string[] parts = text.Split(',');
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
            {
                throw Invalid(key, text, "a comma-separated list of finite numbers");
            }
        }

        return count == 0 || values.Length == count ? values : throw Invalid(key, text, $"{count} number(s) (it has {values.Length})");
    }

    /// <summary>A required list of <paramref name="count"/> finite numbers above zero (a normalisation's standard deviations, say).</summary>
    public float[] RequirePositiveFloats(string key, int count)
    {
        var values = RequireFloats(key, count);
        return values.All(v => v > 0) ? values : throw Invalid(key, Require(key), $"{count} number(s) above zero");
    }

    /// <summary>A required single finite number.</summary>
    public float RequireFloat(string key) => RequireFloats(key, 1)[0];

    /// <summary>An optional <c>true</c>/<c>false</c> value; <paramref name="fallback"/> when the key is absent.</summary>
    public bool OptionalBool(string key, bool fallback)
    {
        if (!Metadata.TryGetValue(key, out var text))
        {
            return fallback;
        }

        return bool.TryParse(text, out bool value) ? value : throw Invalid(key, text, "true or false");
    }

    /// <summary>The error for a metadata value that is present but unusable: names the model, the key and the value.</summary>
    public InvalidDataException Invalid(string key, string text, string expected, Exception? inner = null) =>
        new($"{Source}: metadata '{key}' must be {expected}, not '{(text.Length > 80 ? text[..77] + "..." : text)}'.", inner);

    /// <inheritdoc/>
    public void Dispose() => session.Dispose();

    private static SessionOptions CreateOptions(int threads)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        // Idle worker threads sleep instead of spinning: a pipeline runs several small models in turn and shares
        // the cores with decoding and drawing.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }
}
