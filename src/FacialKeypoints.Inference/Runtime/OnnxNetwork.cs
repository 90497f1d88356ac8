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

    /// <summary>A required integer metadata value.</summary>
    public int RequireInt(string key) =>
        int.TryParse(Require(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InvalidDataException($"{Source}: metadata '{key}' is not an integer: '{Require(key)}'.");

    /// <summary>A required comma-separated float list.</summary>
    public float[] RequireFloats(string key)
    {
        string text = Require(key);
        try
        {
            return [.. text.Split(',').Select(v => float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture))];
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{Source}: metadata '{key}' is not a list of numbers: '{text}'.");
        }
    }

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
