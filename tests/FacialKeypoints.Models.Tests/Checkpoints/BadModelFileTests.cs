using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Tests;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Tests.Checkpoints;

/// <summary>
/// The model-file part of the bad-input catalogue (docs/reliability.md): damaged or hostile safetensors files load
/// correctly or fail with <see cref="ModelFormatException"/> naming the file (and the tensor); the reader parses a
/// JSON header and copies bytes, so no file can run code.
/// </summary>
public sealed class BadModelFileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string directory = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>A safetensors file from a raw JSON header and data bytes.</summary>
    private static byte[] Raw(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static byte[] Floats(params float[] values) => [.. values.SelectMany(BitConverter.GetBytes)];

    /// <summary>Loads into a 2x2 float32 "w" and returns its values, or the documented exception.</summary>
    private static (float[]? Values, ModelFormatException? Error) LoadW(byte[] file, string source = "model.safetensors")
    {
        using var w = zeros(2, 2);
        try
        {
            using var stream = new MemoryStream(file);
            WeightsFile.LoadInto(stream, source, new Dictionary<string, Tensor> { ["w"] = w });
            return (w.data<float>().ToArray(), null);
        }
        catch (ModelFormatException e)
        {
            e.FilePath.Should().Be(source);
            e.Message.Should().StartWith($"'{source}': ");
            return (null, e);
        }
    }

    public static TheoryData<string, string, string> LyingHeaders => new()
    {
        { "offsets past the end", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,1600]}}""", "*'w' ends at byte 1600*truncated*" },
        { "offsets reversed", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}""", "*'w' has invalid shape or data offsets*" },
        { "negative offset", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[-4,12]}}""", "*'w' has invalid*" },
        { "one offset", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16]}}""", "*'w' has invalid*" },
        { "shape bigger than span", """{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[0,16]}}""", "*'w' spans 16 bytes but F32 [4, 4] needs 64*" },
        { "negative shape", """{"w":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}""", "*'w' has invalid*" },
        { "shape overflowing 64 bits", """{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""", "*'w' has shape*more bytes than a file can hold*" },
        { "fractional shape", """{"w":{"dtype":"F32","shape":[2.5,2],"data_offsets":[0,16]}}""", "*not a 64-bit integer*" },
        { "shape as a string", """{"w":{"dtype":"F32","shape":"2,2","data_offsets":[0,16]}}""", "*unexpected structure*" },
        { "no dtype", """{"w":{"shape":[2,2],"data_offsets":[0,16]}}""", "*lacks a field*" },
        { "dtype F64", """{"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,32]}}""", "*'w' has unsupported dtype 'F64'*" },
        { "dtype BOOL", """{"w":{"dtype":"BOOL","shape":[2,2],"data_offsets":[0,4]}}""", "*'w' has unsupported dtype 'BOOL'*" },
        { "dtype a number", """{"w":{"dtype":4,"shape":[2,2],"data_offsets":[0,16]}}""", "*unexpected structure*" },
        { "header an array", """[1,2,3]""", "*not a JSON object*" },
        { "header not JSON", "PK\u0003\u0004 not json", "*not valid JSON*" },
        { "metadata not strings", """{"__metadata__":{"a":1},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "*metadata value 'a' is not a string*" },
        { "metadata an array", """{"__metadata__":[1],"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "*unexpected structure*" },
        { "nested 1000 deep", new string('[', 1000) + new string(']', 1000), "*not valid JSON*" },
        { "wrong tensor name", """{"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", "*missing w; unexpected weight*" },
        { "extra tensor", """{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "*missing none; unexpected x*" },
        { "wrong shape for the network", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "*'w' has shape [4] but the network needs [2, 2]*" },
    };

    [Theory]
    [MemberData(nameof(LyingHeaders))]
    public void LoadInto_HeaderThatLies_NamedErrorAndNothingCopied(string what, string header, string message)
    {
        var (values, error) = LoadW(Raw(header, Floats(1, 2, 3, 4)));

        values.Should().BeNull(what);
        error!.Message.Should().Match(message);
    }

    [Theory]
    [InlineData("F16", new byte[] { 0x00, 0x3C, 0x00, 0x40, 0x00, 0x42, 0x00, 0x44 })]
    [InlineData("BF16", new byte[] { 0x80, 0x3F, 0x00, 0x40, 0x40, 0x40, 0x80, 0x40 })]
    [InlineData("I64", new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0 })]
    public void LoadInto_OtherSupportedDtypes_ConvertToTheNetworksFloat32(string dtype, byte[] data)
    {
        var (values, _) = LoadW(Raw($$$"""{"w":{"dtype":"{{{dtype}}}","shape":[2,2],"data_offsets":[0,{{{data.Length}}}]}}""", data));
        values.Should().Equal(1, 2, 3, 4);
    }

    [Fact]
    public void LoadInto_TruncatedAtEveryOffset_NamedError()
    {
        byte[] whole = Raw("""{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", Floats(1, 2, 3, 4));
        LoadW(whole).Values.Should().Equal(1, 2, 3, 4);

        for (int length = 0; length < whole.Length; length++)
        {
            LoadW(whole[..length]).Error.Should().NotBeNull($"{length} of {whole.Length} bytes");
        }
    }

    [Fact]
    public void Header_TenGigabyteDeclaredLength_RefusedWithoutAllocating()
    {
        var file = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(file, 10UL << 30);
        long before = GC.GetTotalAllocatedBytes(precise: true);

        LoadW(file).Error!.Message.Should().Contain("header length field reads 10737418240");
        (GC.GetTotalAllocatedBytes(precise: true) - before).Should().BeLessThan(16L << 20);
    }

    [Fact]
    public void Load_PyTorchPickleZipRenamedSafetensors_RefusedWithoutRunningIt()
    {
        // What torch.save writes: a zip holding archive/data.pkl. This pickle would call os.system if unpickled.
        string path = Path.Combine(directory, "model.safetensors");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var entry = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open();
            entry.Write("\u0080\u0002cos\nsystem\nq\u0000X\u0010\u0000\u0000\u0000touch /tmp/pwnedq\u0001\u0085q\u0002Rq\u0003."u8);
        }

        string legacy = Path.Combine(directory, "legacy.safetensors");
        File.WriteAllBytes(legacy, [0x80, 0x02, .. "cos\nsystem\n(S'touch /tmp/pwned'\ntR."u8]);

        foreach (string file in new[] { path, legacy })
        {
            FluentActions.Invoking(() => KeypointCheckpoint.Load(file)).Should().Throw<ModelFormatException>()
                .Where(e => e.FilePath == file).WithMessage("*not a safetensors file*");
        }
    }

    [Fact]
    public void Load_SafetensorsWithoutOurMetadataOrMissing_NamedErrors()
    {
        string plain = Path.Combine(directory, "plain.safetensors");
        File.WriteAllBytes(plain, Raw("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", Floats(1, 2, 3, 4)));

        FluentActions.Invoking(() => KeypointCheckpoint.Load(plain)).Should().Throw<ModelFormatException>().WithMessage("*no fkp.format*");
        FluentActions.Invoking(() => KeypointCheckpoint.Load(Path.Combine(directory, "none.safetensors"))).Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void Load_RealCheckpointTruncatedOrWithRenamedTensor_NamedErrorNamingTheTensor()
    {
        string shipped = FindShippedModel();
        byte[] bytes = File.ReadAllBytes(shipped);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string cut = Path.Combine(directory, "cut.safetensors");
        File.WriteAllBytes(cut, bytes[..(int)(8 + (long)headerLength + ((bytes.Length - 8 - (long)headerLength) / 2))]);
        string renamed = Path.Combine(directory, "renamed.safetensors");
        byte[] swapped = (byte[])bytes.Clone();
        int at = IndexOf(swapped, "\"head.output.bias\""u8);
        "\"head.output.bias\""u8.ToArray().Select(b => b == (byte)'b' ? (byte)'B' : b).ToArray().CopyTo(swapped, at);
        File.WriteAllBytes(renamed, swapped);

        FluentActions.Invoking(() => KeypointCheckpoint.Load(cut)).Should().Throw<ModelFormatException>().Where(e => e.FilePath == cut).WithMessage("*truncated*");
        FluentActions.Invoking(() => KeypointCheckpoint.Load(renamed)).Should().Throw<ModelFormatException>().WithMessage("*missing head.output.bias; unexpected head.output.Bias*");
    }

    [Fact]
    public void LoadIntoAndReadMetadata_MutatedFiles_OnlyModelFormatException()
    {
        // A small file carrying the shipped checkpoint's real metadata, so the metadata parser is fuzzed too.
        string shipped = FindShippedModel();
        Dictionary<string, string> metadata;
        using (var stream = File.OpenRead(shipped))
        {
            metadata = WeightsFile.ReadHeader(stream, shipped).Metadata.ToDictionary();
        }

        string validPath = Path.Combine(directory, "valid.safetensors");
        using (var a = arange(6, dtype: ScalarType.Float32).view(2, 3))
        using (var b = tensor(new long[] { 7 }))
        {
            WeightsFile.Save(validPath, [new("a", a), new("b", b)], metadata);
        }

        byte[] valid = File.ReadAllBytes(validPath);
        string mutantPath = Path.Combine(directory, "mutant.safetensors");
        var random = new Random(1313);
        int loaded = 0, refused = 0, metadataRead = 0;
        var clock = Stopwatch.StartNew();
        const int Cases = 1500;
        for (int i = 0; i < Cases; i++)
        {
            var bytes = new List<byte>(valid);
            for (int e = 1 + random.Next(4); e > 0; e--)
            {
                // Half of the edits land in the first 300 bytes: the length field and the start of the header.
                int at = random.Next(random.Next(2) == 0 ? Math.Min(300, bytes.Count) : bytes.Count);
                switch (random.Next(3))
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                    default: bytes.RemoveAt(at); break;
                }
            }

            byte[] mutant = [.. bytes];
            try
            {
                using var a = zeros(2, 3);
                using var b = zeros(1, dtype: ScalarType.Int64);
                using var stream = new MemoryStream(mutant);
                WeightsFile.LoadInto(stream, "mutant", new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b });
                loaded++;
            }
            catch (ModelFormatException e) when (e.FilePath == "mutant")
            {
                refused++;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"mutant {i} threw {e.GetType().Name} from LoadInto: {e.Message}");
            }

            File.WriteAllBytes(mutantPath, mutant);
            try
            {
                KeypointCheckpoint.ReadMetadata(mutantPath);
                metadataRead++;
            }
            catch (ModelFormatException e) when (e.FilePath == mutantPath)
            {
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"mutant {i} threw {e.GetType().Name} from ReadMetadata: {e.Message}");
            }
        }

        output.WriteLine($"safetensors: {Cases} mutants of {valid.Length} bytes, {loaded} loaded, {refused} refused, metadata read from {metadataRead}, {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);

    private static string FindShippedModel()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "FacialKeypoints.Models.Pretrained", "facial-keypoints-resnet18.safetensors");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("The shipped checkpoint src/FacialKeypoints.Models.Pretrained/facial-keypoints-resnet18.safetensors was not found.");
    }
}
