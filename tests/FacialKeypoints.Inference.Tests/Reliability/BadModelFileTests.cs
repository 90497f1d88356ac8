using FacialKeypoints.Tests;

namespace FacialKeypoints.Inference.Tests.Reliability;

/// <summary>
/// ONNX files in the bad-input catalogue (docs/reliability.md): a file that is not ONNX, a truncated model and an
/// ONNX model without the fkp metadata each fail at construction with <see cref="InvalidDataException"/> naming the
/// file, never later with a wrong answer.
/// </summary>
public sealed class BadModelFileTests : IDisposable
{
    private readonly string directory = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    internal static string Shipped(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "FacialKeypoints.Inference", "Models", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"src/FacialKeypoints.Inference/Models/{name} was not found.");
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Constructor_LandmarkModelNotOnnx_NamesTheFile()
    {
        string path = Write("notes.onnx", "this is not a model"u8.ToArray());
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Expression = false, LandmarkModelPath = path }))
            .Should().Throw<InvalidDataException>().WithMessage($"{path}: not a usable ONNX model*");
    }

    [Fact]
    public void Constructor_EmptyOrTruncatedLandmarkModel_NamesTheFile()
    {
        byte[] model = File.ReadAllBytes(Shipped("landmarks-int8.onnx"));
        foreach (int length in new[] { 0, 1, 16, 1000, model.Length / 3, model.Length / 2, model.Length - 100, model.Length - 1 })
        {
            string path = Write($"cut-{length}.onnx", model[..length]);
            FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Expression = false, LandmarkModelPath = path }))
                .Should().Throw<InvalidDataException>($"{length} of {model.Length} bytes").WithMessage($"{path}: *");
        }
    }

    [Fact]
    public void Constructor_OnnxModelWithoutFkpMetadata_NamesTheFileAndTheKey()
    {
        // A valid ONNX model of another kind: the face detector as a landmark network, the landmark network as an expression one.
        string detector = Shipped("blazeface-front-128.onnx");
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Expression = false, LandmarkModelPath = detector }))
            .Should().Throw<InvalidDataException>().WithMessage($"{detector}: *metadata lacks 'fkp.input_width'*");
        string landmarks = Shipped("landmarks-int8.onnx");
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { ExpressionModelPath = landmarks }))
            .Should().Throw<InvalidDataException>().WithMessage($"{landmarks}: *");
    }

    [Fact]
    public void Constructor_MissingModel_FileNotFound() =>
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Expression = false, LandmarkModelPath = Path.Combine(directory, "none.onnx") }))
            .Should().Throw<FileNotFoundException>().WithMessage("*none.onnx*");
}
