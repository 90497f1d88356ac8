using System.Globalization;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using Onnx;
using TorchSharp.Modules;

namespace FacialKeypoints.Models.Export;

/// <summary>
/// Writes networks as ONNX files that ONNX Runtime runs without TorchSharp: opset 17, input <c>input</c>
/// <c>[batch, 3, H, W]</c> float32 (RGB, normalised outside the graph with the mean and standard deviation in the
/// metadata), output <c>output</c> <c>[batch, N]</c> float32, batch norm folded into the convolutions. The model's
/// <c>metadata_props</c> carry everything needed to feed it and read its output (the checkpoint's <c>fkp.*</c> keys
/// plus <c>fkp.onnx.*</c>), so the file alone is enough.
/// </summary>
/// <remarks>
/// Exported: any <see cref="ResNet18Backbone"/> layout, or its first stages, followed by a <see cref="Heads.ReferenceHead"/>,
/// a <see cref="Heads.SpatialHead"/> or one linear layer. Static methods; safe to call from several threads on
/// different networks.
/// </remarks>
public static class OnnxExport
{
    /// <summary>The version of the <c>fkp.onnx.*</c> metadata layout (<c>fkp.onnx.format</c>).</summary>
    public const string FormatVersion = "1";

    /// <summary>The name of the graph's input.</summary>
    public const string InputName = GraphBuilder.InputName;

    /// <summary>The name of the graph's output.</summary>
    public const string OutputName = GraphBuilder.OutputName;

    internal const string FormatKey = "fkp.onnx.format";
    internal const string PrecisionKey = "fkp.precision";
    internal const string OutputKindKey = "fkp.onnx.output_kind";
    internal const string StagesKey = "fkp.onnx.stages";
    internal const string InputLayoutKey = "fkp.onnx.input_layout";
    internal const string LabelsKey = "fkp.labels";
    internal const string CalibrationKey = "fkp.onnx.int8.calibration";
    internal const string CalibrationCountKey = "fkp.onnx.int8.calibration_images";
    internal const string QuantFormatKey = "fkp.onnx.int8.format";
    internal const string WeightBitsKey = "fkp.onnx.int8.weight_bits";

    /// <summary>
    /// Writes a keypoint network (its backbone and a reference or spatial head) with a checkpoint's metadata, atomically
    /// (a temporary file beside <paramref name="path"/>, then renamed). The output is the network's: keypoints
    /// <c>x0, y0, x1, y1, ...</c> in [-1, 1] of the input frame.
    /// </summary>
    /// <param name="network">The network; unchanged (any device, any mode: batch norm uses its running statistics).</param>
    /// <param name="metadata">Its metadata (input size, normalisation, scheme, flip permutation, extra values), as <see cref="KeypointCheckpoint.Load(string)"/> returns it.</param>
    /// <param name="path">The <c>.onnx</c> file to write; its folder is created when missing.</param>
    /// <param name="options">Precision and calibration; float32 when null.</param>
    /// <exception cref="ArgumentException">The metadata contradicts the network.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The options or metadata are invalid.</exception>
    /// <exception cref="NotSupportedException">The head is of a kind the exporter does not know.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Save(KeypointNetwork network, ModelMetadata metadata, string path, OnnxExportOptions? options = null)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new OnnxExportOptions();
        options.Validate();
        var completed = KeypointCheckpoint.Complete(metadata, network, CheckpointPrecision.Float32);
        var properties = KeypointCheckpoint.ToDictionary(completed);
        properties[OutputKindKey] = "keypoints";
        properties[StagesKey] = "4";
        var graph = GraphBuilder.FromKeypointNetwork(network);
        Write(graph, completed.InputHeight, completed.InputWidth, completed.Normalization, properties, path, options);
    }

    /// <summary>
    /// Writes a classifier made of the first <paramref name="stages"/> stages of a backbone, global average pooling and
    /// one linear layer (dropout before it is the identity at inference); the output is its logits.
    /// </summary>
    /// <param name="backbone">The backbone; the stages after <paramref name="stages"/> are not exported.</param>
    /// <param name="stages">How many stages run: 1 to 4 (3 ends at layer3, 256 features).</param>
    /// <param name="classifier">The linear layer reading the pooled features.</param>
    /// <param name="inputSize">The square input side in pixels the classifier reads (at least 32; the graph computes the same map sizes as TorchSharp for any side).</param>
    /// <param name="normalization">The input normalisation the weights expect.</param>
    /// <param name="labels">The class names in output order, stored as <c>fkp.labels</c>; null for none.</param>
    /// <param name="extra">Other metadata; keys must not start with <c>fkp.</c>.</param>
    /// <param name="path">The <c>.onnx</c> file to write.</param>
    /// <param name="options">Precision and calibration (calibration images are resized to <paramref name="inputSize"/> as they are); float32 when null.</param>
    /// <exception cref="ArgumentException">An argument is out of range or contradicts another.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The options are invalid.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void SaveClassifier(
        ResNet18Backbone backbone,
        int stages,
        Linear classifier,
        int inputSize,
        NormalizationSpec normalization,
        IReadOnlyList<string>? labels,
        IReadOnlyDictionary<string, string>? extra,
        string path,
        OnnxExportOptions? options = null)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 32);

        options ??= new OnnxExportOptions();
        options.Validate();
        var graph = GraphBuilder.FromBackboneAndLinear(backbone, stages, classifier);
        int classes = OnnxWriter.OutputWidth(graph);
        if (labels is not null && (labels.Count != classes || labels.Any(l => string.IsNullOrEmpty(l) || l.Contains(',', StringComparison.Ordinal))))
        {
            throw new ArgumentException($"Give {classes} non-empty labels without commas, one per output.", nameof(labels));
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrEmpty(key) || key.StartsWith("fkp.", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Extra metadata key '{key}' is empty or reserved (fkp.*).", nameof(extra));
            }

            properties[key] = value;
        }

        properties["fkp.architecture"] = ModelMetadata.ResNet18Architecture;
        properties["fkp.layout"] = backbone.Layout.ToBlocksText();
        properties["fkp.input_width"] = Invariant(inputSize);
        properties["fkp.input_height"] = Invariant(inputSize);
        properties["fkp.normalization.mean"] = string.Join(",", normalization.Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        properties["fkp.normalization.std"] = string.Join(",", normalization.Std.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        properties["fkp.class_count"] = Invariant(classes);
        properties[OutputKindKey] = "logits";
        properties[StagesKey] = Invariant(stages);
        if (labels is not null)
        {
            properties[LabelsKey] = string.Join(",", labels);
        }

        Write(graph, inputSize, inputSize, normalization, properties, path, options);
    }

    /// <summary>
    /// Writes a float32 model of this exporter's (<see cref="Save"/> or <see cref="SaveClassifier"/>) again as static
    /// int8, for a network whose weights only live in that file. The graph and metadata are kept; the precision and
    /// calibration keys are set as <see cref="Save"/> sets them. The result is the one exporting the network as int8
    /// with the same calibration images would have given.
    /// </summary>
    /// <param name="source">The float32 <c>.onnx</c> file.</param>
    /// <param name="path">The int8 <c>.onnx</c> file to write (atomically).</param>
    /// <param name="options">Int8 with its calibration images: inputs as the model reads them (resized to its input
    /// size when they are not), normalised with the model's <c>fkp.normalization.*</c> values.</param>
    /// <exception cref="ArgumentException"><paramref name="options"/> does not ask for int8.</exception>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The options are invalid.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="source"/> is missing.</exception>
    /// <exception cref="InvalidDataException"><paramref name="source"/> is not a float32 model of this exporter's; the message names it.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Quantize(string source, string path, OnnxExportOptions options)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Precision != OnnxPrecision.Int8)
        {
            throw new ArgumentException("Quantize writes int8: set Precision to Int8.", nameof(options));
        }

        var (graph, height, width, properties) = OnnxGraphReader.Read(source);
        if (!properties.TryGetValue(FormatKey, out string? format) || format != FormatVersion)
        {
            throw new InvalidDataException($"{source}: '{FormatKey}' is '{format}', not {FormatVersion}: not a model of this exporter's.");
        }

        NormalizationSpec normalization;
        try
        {
            normalization = new NormalizationSpec(
                KeypointCheckpoint.ParseFloats(properties[KeypointCheckpoint.MeanKey]), KeypointCheckpoint.ParseFloats(properties[KeypointCheckpoint.StdKey]));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{source}: the normalisation keys are missing or malformed ({e.Message})", e);
        }

        Write(graph, height, width, normalization, properties, path, options);
    }

    internal static ModelProto Build(
        ExportGraph graph, int height, int width, NormalizationSpec normalization, Dictionary<string, string> properties, OnnxExportOptions options)
    {
        properties[FormatKey] = FormatVersion;
        properties[InputLayoutKey] = "NCHW float32 RGB, (pixel / 255 - mean) / std";
        if (options.Precision == OnnxPrecision.Float32)
        {
            properties[PrecisionKey] = "float32";
            return OnnxWriter.Build(graph, height, width, properties);
        }

        var calibration = Calibration.Prepare(options.CalibrationImages!, height, width, normalization);
        var ranges = Calibration.Ranges(graph, calibration, height, width, options.CalibrationPercentile);
        properties[PrecisionKey] = "int8";
        properties[CalibrationKey] = options.CalibrationPercentile >= 100
            ? "minmax"
            : "percentile:" + options.CalibrationPercentile.ToString("R", CultureInfo.InvariantCulture);
        properties[CalibrationCountKey] = Invariant(options.CalibrationImages!.Count);
        properties[QuantFormatKey] = options.QuantizationFormat == Int8Format.Qdq ? "qdq" : "qoperator";
        properties[WeightBitsKey] = Invariant(Int8Writer.WeightBits);
        return Int8Writer.Build(graph, height, width, properties, ranges, options.QuantizationFormat);
    }

    private static void Write(
        ExportGraph graph, int height, int width, NormalizationSpec normalization, Dictionary<string, string> properties, string path, OnnxExportOptions options) =>
        OnnxProto.Write(Build(graph, height, width, normalization, properties, options), path);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
