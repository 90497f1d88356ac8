using FacialKeypoints.Inference.Expressions;
using FacialKeypoints.Inference.Landmarks;
using FacialKeypoints.Inference.Runtime;
using FacialKeypoints.Tests;
using Xunit.Abstractions;

namespace FacialKeypoints.Inference.Tests.Reliability;

/// <summary>
/// Malformed <c>metadata_props</c> values of the landmark and expression models (docs/reliability.md): each case takes
/// the shipped model's metadata, breaks one value (or drops it), puts it on a small valid ONNX graph (the face
/// detector's) and reads it as the pipeline does. Every case fails at construction with the documented
/// <see cref="InvalidDataException"/> naming the model and the key; none crashes later or falls back silently.
/// </summary>
public sealed class MalformedMetadataTests(ITestOutputHelper output)
{
    private const string Source = "broken.onnx";
    private static readonly Lazy<byte[]> Graph = new(() => File.ReadAllBytes(BadModelFileTests.Shipped("blazeface-front-128.onnx")));
    private static readonly Lazy<IReadOnlyDictionary<string, string>> LandmarkMetadata = new(() => ShippedMetadata("landmarks-int8.onnx"));
    private static readonly Lazy<IReadOnlyDictionary<string, string>> ExpressionMetadata = new(() => ShippedMetadata("expression-int8.onnx"));

    private static readonly string Mirror68 = string.Join(",", Enumerable.Range(0, 68).Select(i => LandmarkScheme.Ibug68.FlipPermutation[i]));

    /// <summary>Landmark-model keys and broken values (null: the key is left out).</summary>
    public static TheoryData<string, string?> LandmarkCases { get; } = new()
    {
        { "fkp.input_width", "abc" },
        { "fkp.input_width", "" },
        { "fkp.input_width", null },
        { "fkp.input_width", "0" },
        { "fkp.input_width", "-160" },
        { "fkp.input_width", "160.5" },
        { "fkp.input_width", "1e3" },
        { "fkp.input_width", "99999999999" },
        { "fkp.input_width", "100000" },
        { "fkp.input_height", "128" },
        { "fkp.input_height", "NaN" },
        { "fkp.normalization.mean", "NaN,0.45,0.40" },
        { "fkp.normalization.mean", "0.48,Infinity,0.40" },
        { "fkp.normalization.mean", "0.48,-Infinity,0.40" },
        { "fkp.normalization.mean", "0.48,0.45" },
        { "fkp.normalization.mean", "0.48,0.45,0.40,0.1" },
        { "fkp.normalization.mean", "0.48;0.45;0.40" },
        { "fkp.normalization.mean", "0.48,,0.40" },
        { "fkp.normalization.mean", "0,48,0,45,0,40" },
        { "fkp.normalization.std", "0,0.0039,0.0039" },
        { "fkp.normalization.std", "-0.0039,0.0039,0.0039" },
        { "fkp.normalization.std", "1e39,1,1" },
        { "fkp.normalization.std", "0.0039" },
        { "fkp.normalization.std", "one,two,three" },
        { "fkp.keypoint_count", "sixty-eight" },
        { "fkp.keypoint_count", "0" },
        { "fkp.keypoint_count", "-68" },
        { "fkp.keypoint_count", "98" },
        { "fkp.scheme", "ibug98" },
        { "fkp.scheme", "" },
        { "fkp.flip_permutation", "1,0" },
        { "fkp.flip_permutation", Mirror68 + ",0" },
        { "fkp.flip_permutation", Mirror68.Replace("16,", "x,", StringComparison.Ordinal) },
        { "fkp.flip_permutation", "68," + Mirror68[(Mirror68.IndexOf(',', StringComparison.Ordinal) + 1)..] },
        { "fkp.flip_permutation", "-16," + Mirror68[(Mirror68.IndexOf(',', StringComparison.Ordinal) + 1)..] },
        { "fkp.flip_permutation", string.Join(",", Enumerable.Range(0, 68).Select(i => (i + 1) % 68)) },
        { "fkp.flip_permutation", string.Join(",", Enumerable.Repeat(0, 68)) },
    };

    /// <summary>Expression-model keys and broken values (null: the key is left out).</summary>
    public static TheoryData<string, string?> ExpressionCases { get; } = new()
    {
        { "fkp.input_width", "sixty-four" },
        { "fkp.input_width", "0" },
        { "fkp.input_width", "-64" },
        { "fkp.input_width", "2048" },
        { "expression.greyscale", "yes" },
        { "expression.greyscale", "1" },
        { "expression.mirror_average", "" },
        { "fkp.normalization.mean", "0.5,0.5" },
        { "fkp.normalization.mean", "NaN,0.45,0.40" },
        { "fkp.normalization.std", "0.0039" },
        { "fkp.normalization.std", "0.0039,0,0.0039" },
        { "fkp.normalization.std", "Infinity,1,1" },
        { "fkp.class_count", "ten" },
        { "fkp.class_count", "0" },
        { "fkp.class_count", "-10" },
        { "fkp.class_count", "5" },
        { "expression.crop.side", "0" },
        { "expression.crop.side", "-2.1" },
        { "expression.crop.side", "NaN" },
        { "expression.crop.side", null },
        { "expression.crop.center_u", "Infinity" },
        { "expression.crop.center_u", "0,1" },
        { "expression.crop.center_v", "middle" },
        { "expression.valence.temperature", "0" },
        { "expression.valence.temperature", "-1.19" },
        { "expression.valence.temperature", "NaN" },
        { "expression.valence.temperature", "Infinity" },
        { "expression.emotion.temperature", "warm" },
        { "expression.emotion.temperature", "1,1" },
        { "expression.emotion.outputs", "3-8" },
        { "expression.emotion.outputs", "4-10" },
        { "expression.emotion.outputs", "a-b" },
        { "expression.emotion.outputs", "-3-9" },
        { "expression.emotion.outputs", "3" },
        { "expression.emotion.outputs", "9-3" },
        { "expression.valence.outputs", "" },
        { "expression.valence.labels", "negative,neutral,happy" },
        { "expression.emotion.labels", "angry,disgust,fear,happy,sad,surprise" },
    };

    [Fact]
    public void Shipped_MetadataOnTheTestGraph_IsAccepted()
    {
        // The control: the untouched metadata of each model, on the same graph, constructs.
        using (var onnx = Open(LandmarkMetadata.Value))
        {
            var landmarks = new LandmarkNetwork(onnx);
            landmarks.Size.Should().Be(int.Parse(LandmarkMetadata.Value["fkp.input_width"], System.Globalization.CultureInfo.InvariantCulture));
        }

        using (var onnx = Open(ExpressionMetadata.Value))
        {
            FluentActions.Invoking(() => new ExpressionNetwork(onnx)).Should().NotThrow();
        }
    }

    [Theory]
    [MemberData(nameof(LandmarkCases))]
    public void LandmarkNetwork_MalformedValue_NamesTheFileAndTheKey(string key, string? value)
    {
        using var onnx = Open(Break(LandmarkMetadata.Value, key, value));
        var error = FluentActions.Invoking(() => new LandmarkNetwork(onnx)).Should().Throw<InvalidDataException>().Which;
        output.WriteLine(error.Message);
        error.Message.Should().StartWith($"{Source}: ").And.Contain($"'{key}'");
    }

    [Theory]
    [MemberData(nameof(ExpressionCases))]
    public void ExpressionNetwork_MalformedValue_NamesTheFileAndTheKey(string key, string? value)
    {
        using var onnx = Open(Break(ExpressionMetadata.Value, key, value));
        var error = FluentActions.Invoking(() => new ExpressionNetwork(onnx)).Should().Throw<InvalidDataException>().Which;
        output.WriteLine(error.Message);
        error.Message.Should().StartWith($"{Source}: ").And.Contain($"'{key}'");
    }

    [Fact]
    public void FacePipeline_MalformedMetadataInModelFiles_NamesTheFileAndTheKey()
    {
        // The same through the public constructor, from files: the error names the path.
        string directory = TestEnvironment.NewTempDirectory();
        try
        {
            string landmarks = Path.Combine(directory, "landmarks.onnx"), expression = Path.Combine(directory, "expression.onnx");
            File.WriteAllBytes(landmarks, OnnxMetadata.With(Graph.Value, Break(LandmarkMetadata.Value, "fkp.normalization.std", "0,0,0")));
            File.WriteAllBytes(expression, OnnxMetadata.With(Graph.Value, Break(ExpressionMetadata.Value, "expression.valence.temperature", "NaN")));

            FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Expression = false, LandmarkModelPath = landmarks }))
                .Should().Throw<InvalidDataException>().WithMessage($"{landmarks}: metadata 'fkp.normalization.std' must be 3 number(s) above zero, not '0,0,0'.");
            FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { ExpressionModelPath = expression }))
                .Should().Throw<InvalidDataException>().WithMessage($"{expression}: metadata 'expression.valence.temperature' must be a comma-separated list of finite numbers, not 'NaN'.");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static IReadOnlyDictionary<string, string> ShippedMetadata(string name)
    {
        using var onnx = OnnxNetwork.Open(BadModelFileTests.Shipped(name), threads: 1);
        return new Dictionary<string, string>(onnx.Metadata);
    }

    private static Dictionary<string, string> Break(IReadOnlyDictionary<string, string> metadata, string key, string? value)
    {
        var broken = new Dictionary<string, string>(metadata);
        broken.Should().ContainKey(key, "each case breaks a key the shipped model has");
        if (value is null)
        {
            broken.Remove(key);
        }
        else
        {
            broken[key] = value;
        }

        return broken;
    }

    private static OnnxNetwork Open(IReadOnlyDictionary<string, string> metadata) => OnnxNetwork.Open(OnnxMetadata.With(Graph.Value, metadata), Source, threads: 1);
}
