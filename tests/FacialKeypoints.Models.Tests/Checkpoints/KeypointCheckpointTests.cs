using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Data;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Checkpoints;

public sealed class KeypointCheckpointTests : IDisposable
{
    private readonly string directory = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void SaveThenLoad_Float32_GivesIdenticalOutputsAndMetadata()
    {
        string path = Path.Combine(directory, "model.safetensors");
        using var model = NewModel(LandmarkScheme.Ibug68.Count);
        var metadata = ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 224, NormalizationSpec.ImportedResNet18) with
        {
            Extra = new Dictionary<string, string> { ["epochs"] = "3", ["dataset"] = "synthetic" },
        };

        var written = KeypointCheckpoint.Save(path, model, metadata);
        var (loaded, read) = KeypointCheckpoint.Load(path);
        using var _ = loaded;

        using (no_grad())
        {
            using var images = randn(2, 3, 64, 64);
            using var expected = model.call(images);
            using var actual = loaded.call(images);
            actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue();
        }

        read.Should().BeEquivalentTo(written);
        read.KeypointCount.Should().Be(68);
        read.Layout.Should().Be(ResNet18Layout.Standard);
        read.HeadKind.Should().Be(ReferenceHead.HeadKind);
        read.HeadSettings[ReferenceHead.HiddenFeaturesKey].Should().Be("32");
        read.Normalization.Should().Be(NormalizationSpec.ImportedResNet18);
        read.SchemeName.Should().Be(LandmarkScheme.Ibug68.Name);
        read.FlipPermutation.Should().Equal(LandmarkScheme.Ibug68.FlipPermutation);
        read.Extra.Should().Equal(metadata.Extra);
        read.LibraryVersion.Should().NotBeNullOrEmpty();
        read.Precision.Should().Be(CheckpointPrecision.Float32);
        ((ReferenceHead)loaded.Head).HiddenFeatures.Should().Be(32);
        Directory.GetFiles(directory).Should().Equal([path], "the temporary file is renamed over the target");
    }

    [Fact]
    public void SaveThenLoad_Float16_IsCloseAndHalfTheSize()
    {
        string full = Path.Combine(directory, "full.safetensors");
        string half = Path.Combine(directory, "half.safetensors");
        using var model = NewModel(5);
        var metadata = new ModelMetadata { InputHeight = 64, InputWidth = 64 };

        KeypointCheckpoint.Save(full, model, metadata);
        KeypointCheckpoint.Save(half, model, metadata, CheckpointPrecision.Float16);
        var (loaded, read) = KeypointCheckpoint.Load(half);
        using var _ = loaded;

        read.Precision.Should().Be(CheckpointPrecision.Float16);
        new FileInfo(half).Length.Should().BeLessThan((new FileInfo(full).Length * 6) / 10);
        loaded.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float32);
        using (no_grad())
        {
            using var images = randn(2, 3, 64, 64);
            using var expected = model.call(images);
            using var actual = loaded.call(images);
            float scale = expected.abs().max().item<float>();
            float diff = (actual - expected).abs().max().item<float>();
            (diff / scale).Should().BeLessThan(2e-2f);
        }
    }

    [Fact]
    public void SaveThenLoad_CustomHeadWithFactory_RestoresHead()
    {
        string path = Path.Combine(directory, "custom.safetensors");
        using var model = new KeypointNetwork(new ResNet18Backbone(), new ReferenceHead(512, 4, new ReferenceHeadOptions { HiddenFeatures = 16 }));
        KeypointCheckpoint.Save(path, model, new ModelMetadata());
        int factoryCalls = 0;

        var (loaded, read) = KeypointCheckpoint.Load(path, m =>
        {
            factoryCalls++;
            return new ReferenceHead(512, m.KeypointCount, ReferenceHead.OptionsFromSettings(m.HeadSettings));
        });
        using var _ = loaded;

        factoryCalls.Should().Be(1);
        loaded.KeypointCount.Should().Be(4);
        read.KeypointCount.Should().Be(4);
    }

    [Fact]
    public void Save_Overwrite_ReplacesFileAndReadMetadataSeesNewOne()
    {
        string path = Path.Combine(directory, "model.safetensors");
        using var model = NewModel(5);

        KeypointCheckpoint.Save(path, model, new ModelMetadata { InputHeight = 64, InputWidth = 64 });
        KeypointCheckpoint.Save(path, model, new ModelMetadata { InputHeight = 96, InputWidth = 96 });

        KeypointCheckpoint.ReadMetadata(path).InputHeight.Should().Be(96);
        Directory.GetFiles(directory).Should().HaveCount(1);
    }

    [Fact]
    public void Save_FlipPermutationOfWrongLength_Throws()
    {
        using var model = NewModel(5);
        var metadata = ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 224, NormalizationSpec.ImageNet);

        var act = () => KeypointCheckpoint.Save(Path.Combine(directory, "x.safetensors"), model, metadata);

        act.Should().Throw<ArgumentException>().WithMessage("*68*5*");
        Directory.GetFiles(directory).Should().BeEmpty();
    }

    [Fact]
    public void Save_ReservedExtraKey_Throws()
    {
        using var model = NewModel(5);
        var metadata = new ModelMetadata { Extra = new Dictionary<string, string> { ["fkp.layout"] = "1" } };

        var act = () => KeypointCheckpoint.Save(Path.Combine(directory, "x.safetensors"), model, metadata);

        act.Should().Throw<ArgumentException>().WithMessage("*fkp.layout*");
    }

    [Fact]
    public void Load_NotASafetensorsFile_ThrowsNamingFile()
    {
        string path = Path.Combine(directory, "notes.safetensors");
        File.WriteAllText(path, "just some text that is long enough");

        AssertLoadFails(path, "*not a safetensors file*");
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsNamingFile()
    {
        string path = SaveSmall("truncated.safetensors");
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        AssertLoadFails(path, "*truncated*");
    }

    [Fact]
    public void Load_SafetensorsWithoutOurMetadata_ThrowsNamingFile()
    {
        string path = SaveSmall("plain.safetensors");
        Rewrite(path, (tensors, metadata) => metadata.Clear());

        AssertLoadFails(path, "*without FacialKeypoints metadata*");
    }

    [Fact]
    public void Load_MissingTensor_ThrowsNamingTensor()
    {
        string path = SaveSmall("missing.safetensors");
        Rewrite(path, (tensors, _) => tensors.RemoveAll(t => t.Key == "backbone.layer2.0.downsample.0.weight"));

        AssertLoadFails(path, "*missing backbone.layer2.0.downsample.0.weight*");
    }

    [Fact]
    public void Load_WrongShape_ThrowsNamingTensorAndShapes()
    {
        string path = SaveSmall("shape.safetensors");
        Rewrite(path, (tensors, _) =>
        {
            int i = tensors.FindIndex(t => t.Key == "head.hidden.bias");
            var old = tensors[i].Value;
            tensors[i] = new(tensors[i].Key, old with { Shape = [old.Shape[0] / 2, 2] });
        });

        AssertLoadFails(path, "*head.hidden.bias*shape*");
    }

    [Fact]
    public void LoadInto_DifferentKeypointCount_ThrowsNamingBothCounts()
    {
        string path = SaveSmall("five.safetensors");
        using var other = NewModel(68);

        var act = () => KeypointCheckpoint.LoadInto(path, other);

        act.Should().Throw<ModelFormatException>().Where(e => e.FilePath == path).WithMessage("*5 keypoints*68*");
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        string path = Path.Combine(directory, "absent.safetensors");

        var act = () => KeypointCheckpoint.Load(path);

        act.Should().Throw<FileNotFoundException>().WithMessage($"*{path}*");
    }

    private static KeypointNetwork NewModel(int keypoints)
    {
        var model = new KeypointNetwork(keypoints, headOptions: new ReferenceHeadOptions { HiddenFeatures = 32 });
        model.eval();
        return model;
    }

    private static void AssertLoadFails(string path, string message)
    {
        var act = () => KeypointCheckpoint.Load(path);
        act.Should().Throw<ModelFormatException>().Where(e => e.FilePath == path).WithMessage($"'{path}'*").WithMessage(message);
    }

    private static void Rewrite(string path, Action<List<KeyValuePair<string, SafeTensor>>, Dictionary<string, string>> change)
    {
        var tensors = new List<KeyValuePair<string, SafeTensor>>();
        Dictionary<string, string> metadata;
        using (var stream = File.OpenRead(path))
        {
            var header = SafeTensors.ReadHeader(stream);
            metadata = new Dictionary<string, string>(header.Metadata);
            foreach (string name in header.Entries.Keys)
            {
                tensors.Add(new(name, SafeTensors.ReadTensor(stream, header, name)));
            }
        }

        change(tensors, metadata);
        using var output = File.Create(path);
        SafeTensors.Write(output, tensors, metadata);
    }

    private string SaveSmall(string fileName)
    {
        string path = Path.Combine(directory, fileName);
        using var model = NewModel(5);
        KeypointCheckpoint.Save(path, model, new ModelMetadata { InputHeight = 64, InputWidth = 64 });
        return path;
    }
}
