using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Tests;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Checkpoints;

public sealed class WeightsFileTests : IDisposable
{
    private readonly string directory = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void SaveThenLoadInto_FromFileAndMemoryStream_CopiesValuesAndMetadata()
    {
        string path = Path.Combine(directory, "w.safetensors");
        using var weight = arange(6, dtype: ScalarType.Float32).view(2, 3);
        using var count = tensor(new long[] { 7 });
        WeightsFile.Save(path, [new("a.weight", weight), new("a.count", count)], new Dictionary<string, string> { ["note"] = "x" });
        using var weightCopy = zeros(2, 3);
        using var countCopy = zeros(1, dtype: ScalarType.Int64);

        using var memory = new MemoryStream(File.ReadAllBytes(path));
        var metadata = WeightsFile.LoadInto(memory, "in-memory", new Dictionary<string, Tensor> { ["a.weight"] = weightCopy, ["a.count"] = countCopy });

        metadata.Should().Contain("note", "x");
        weightCopy.allclose(weight, rtol: 0, atol: 0).Should().BeTrue();
        countCopy.item<long>().Should().Be(7);
        using var file = File.OpenRead(path);
        WeightsFile.ReadHeader(file, path).Shapes["a.weight"].Should().Equal(2, 3);
    }

    [Fact]
    public void LoadInto_MissingOrWrongShape_ThrowsNamingTheSourceAndTensorWithoutCopying()
    {
        string path = Path.Combine(directory, "w.safetensors");
        using var weight = ones(2, 3);
        WeightsFile.Save(path, [new("a.weight", weight)], new Dictionary<string, string>());
        using var wrongShape = zeros(3, 2);
        using var extra = zeros(1);

        using var first = File.OpenRead(path);
        var shape = () => WeightsFile.LoadInto(first, path, new Dictionary<string, Tensor> { ["a.weight"] = wrongShape });
        using var second = File.OpenRead(path);
        var missing = () => WeightsFile.LoadInto(second, path, new Dictionary<string, Tensor> { ["a.weight"] = zeros(2, 3), ["b"] = extra });

        shape.Should().Throw<ModelFormatException>().Where(e => e.FilePath == path).WithMessage("*a.weight*shape*");
        missing.Should().Throw<ModelFormatException>().WithMessage("*missing b*");
        wrongShape.sum().item<float>().Should().Be(0);
    }

    [Fact]
    public void Save_Float16WithAValueBeyondItsRange_KeepsThatTensorFloat32()
    {
        // An ImageNet stem's batch-norm variance reaches about 7e4; float16 tops out at 65504.
        string path = Path.Combine(directory, "w.safetensors");
        using var variance = tensor(new float[] { 72281.8f, 0.5f });
        using var weight = tensor(new float[] { 0.25f, -1.5f });
        WeightsFile.Save(path, [new("bn.running_var", variance), new("conv.weight", weight)], new Dictionary<string, string>(), CheckpointPrecision.Float16);
        using var varianceCopy = zeros(2);
        using var weightCopy = zeros(2);

        using var stream = File.OpenRead(path);
        WeightsFile.LoadInto(stream, path, new Dictionary<string, Tensor> { ["bn.running_var"] = varianceCopy, ["conv.weight"] = weightCopy });

        varianceCopy.data<float>().ToArray().Should().Equal(72281.8f, 0.5f);
        weightCopy.data<float>().ToArray().Should().Equal(0.25f, -1.5f);
        new FileInfo(path).Length.Should().BeLessThan(1000);
    }

    [Fact]
    public void Save_DuplicateNameOrReservedKey_Throws()
    {
        string path = Path.Combine(directory, "w.safetensors");
        using var t = ones(1);

        var duplicate = () => WeightsFile.Save(path, [new("x", t), new("x", t)], new Dictionary<string, string>());
        var reserved = () => WeightsFile.Save(path, [new("x", t)], new Dictionary<string, string> { ["__metadata__"] = "no" });

        duplicate.Should().Throw<ArgumentException>().WithMessage("*twice*");
        reserved.Should().Throw<ArgumentException>().WithMessage("*reserved*");
        File.Exists(path).Should().BeFalse();
    }
}
