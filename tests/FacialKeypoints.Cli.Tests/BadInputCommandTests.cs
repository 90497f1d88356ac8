using System.Buffers.Binary;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Cli.Tests;

/// <summary>
/// The command line on the bad-input catalogue (docs/reliability.md): bad files give one line each on standard error
/// naming the file (and line), a non-zero exit code and never a stack trace; <c>predict</c> skips and reports (good
/// images still get their rows) or, with <c>--on-bad-file fail</c>, stops at the first; <c>evaluate</c> fails fast.
/// </summary>
[Collection("console")] // Fkp.Run swaps the process-wide Console.Out and Console.Error.
public sealed class BadInputCommandTests : IDisposable
{
    private readonly string directory = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static readonly string[] TestLines = File.ReadLines(Path.Combine(TestEnvironment.KeypointData, "test_frames_keypoints.csv")).Take(4).ToArray();

    private static void NoStackTrace(string errors) =>
        errors.Split('\n').Should().NotContain(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal), "a user error is one line, not a stack trace");

    [Fact]
    public void Predict_FolderWithBadImages_OneLinePerBadFileGoodRowsWrittenExitOne()
    {
        string images = Path.Combine(directory, "images");
        Directory.CreateDirectory(images);
        string good = TestLines[1].Split(',')[0];
        File.Copy(Path.Combine(TestEnvironment.KeypointData, "test", good), Path.Combine(images, good));
        byte[] png = File.ReadAllBytes(Path.Combine(images, good));
        var bomb = new byte[64];
        png.AsSpan(0, 16).CopyTo(bomb);
        BinaryPrimitives.WriteInt32BigEndian(bomb.AsSpan(16), 100_000);
        BinaryPrimitives.WriteInt32BigEndian(bomb.AsSpan(20), 100_000);
        var bad = new Dictionary<string, byte[]>
        {
            ["empty.jpg"] = [],
            ["cut.png"] = png[..(png.Length / 2)],
            ["notes.jpg"] = "not an image"u8.ToArray(),
            ["bomb.png"] = bomb,
            ["pickle.png"] = [0x80, 0x02, .. "cos\nsystem\n"u8],
        };
        foreach (var (name, bytes) in bad)
        {
            File.WriteAllBytes(Path.Combine(images, name), bytes);
        }

        string csv = Path.Combine(directory, "out.csv");
        var (code, _, errors) = Fkp.Run("predict", images, "--out", csv, "--no-expression", "--quiet", "--workers", "2");

        code.Should().Be(1);
        NoStackTrace(errors);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => bad.Keys.Any(l.Contains)).ToList();
        lines.Should().HaveCount(bad.Count);
        foreach (string name in bad.Keys)
        {
            lines.Should().ContainSingle(l => l.Contains(name, StringComparison.Ordinal));
        }

        var rows = KeypointCsvReader.Read(csv, LandmarkScheme.Ibug68).Records;
        rows.Should().ContainSingle().Which.Name.Should().Be(good);
    }

    [Fact]
    public void Predict_OnBadFileFail_StopsAtTheFirstBadImageWithOneLineExitTwo()
    {
        string images = Path.Combine(directory, "images");
        Directory.CreateDirectory(images);
        string good = TestLines[1].Split(',')[0];
        File.Copy(Path.Combine(TestEnvironment.KeypointData, "test", good), Path.Combine(images, "a-good.jpg"));
        File.WriteAllBytes(Path.Combine(images, "b-empty.jpg"), []);
        File.WriteAllBytes(Path.Combine(images, "c-notes.jpg"), "not an image"u8.ToArray());

        var (code, _, errors) = Fkp.Run("predict", images, "--out", Path.Combine(directory, "out.csv"), "--no-expression", "--quiet", "--on-bad-file", "fail");

        code.Should().Be(2);
        NoStackTrace(errors);
        errors.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("b-empty.jpg").And.Contain("is empty");
    }

    [Fact]
    public void Predict_ModelThatIsAPickle_OneLineNamingTheFileExitTwo()
    {
        string model = Path.Combine(directory, "model.onnx");
        File.WriteAllBytes(model, [0x80, 0x02, .. "cos\nsystem\n(S'true'\ntR."u8]);

        var (code, _, errors) = Fkp.Run("predict", Path.Combine(TestEnvironment.KeypointData, "test", TestLines[1].Split(',')[0]), "--model", model, "--no-expression", "--quiet");

        code.Should().NotBe(0);
        NoStackTrace(errors);
        errors.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain(model);
    }

    [Theory]
    [InlineData("NaN", "is not finite")]
    [InlineData("x", "is not a number")]
    [InlineData(null, "fields")]
    public void Evaluate_CsvWithABadRow_FailsFastWithOneLineNamingFileAndLine(string? value, string problem)
    {
        string data = Path.Combine(directory, "data");
        Directory.CreateDirectory(Path.Combine(data, "test"));
        foreach (string line in TestLines.Skip(1).Take(2))
        {
            string name = line.Split(',')[0];
            File.Copy(Path.Combine(TestEnvironment.KeypointData, "test", name), Path.Combine(data, "test", name));
        }

        var fields = TestLines[2].Split(',');
        string badRow = value is null ? string.Join(',', fields[..^2]) : string.Join(',', [.. fields[..5], value, .. fields[6..]]);
        string csv = Path.Combine(data, "test_frames_keypoints.csv");
        File.WriteAllLines(csv, [TestLines[0], TestLines[1], badRow]);

        var (code, _, errors) = Fkp.Run("evaluate", "--data", data, "--out", Path.Combine(directory, "eval"), "--quiet");

        code.Should().NotBe(0);
        NoStackTrace(errors);
        errors.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain($"{csv}:3: ").And.Contain(problem);
    }

    [Fact]
    public void Evaluate_OnBadFileSkip_NamesTheBadRowAndImageScoresTheRestExitOne()
    {
        string data = Path.Combine(directory, "data");
        Directory.CreateDirectory(Path.Combine(data, "test"));
        foreach (string line in TestLines.Skip(1))
        {
            string name = line.Split(',')[0];
            File.Copy(Path.Combine(TestEnvironment.KeypointData, "test", name), Path.Combine(data, "test", name));
        }

        string broken = TestLines[3].Split(',')[0];
        File.WriteAllBytes(Path.Combine(data, "test", broken), "not an image"u8.ToArray());
        var fields = TestLines[2].Split(',');
        string csv = Path.Combine(data, "test_frames_keypoints.csv");
        File.WriteAllLines(csv, [TestLines[0], TestLines[1], string.Join(',', [.. fields[..5], "NaN", .. fields[6..]]), TestLines[3]]);
        string output = Path.Combine(directory, "eval");

        var (code, stdout, errors) = Fkp.Run("evaluate", "--data", data, "--out", output, "--quiet", "--on-bad-file", "skip");

        code.Should().Be(1, errors);
        NoStackTrace(errors);
        var lines = errors.Trim().Split('\n');
        lines.Should().ContainSingle(l => l.Contains($"{csv}:3: ", StringComparison.Ordinal) && l.Contains("is not finite", StringComparison.Ordinal));
        lines.Should().ContainSingle(l => l.Contains(broken, StringComparison.Ordinal) && l.Contains("is not a recognised image", StringComparison.Ordinal));
        stdout.Should().Contain("test (1 images)");
        File.Exists(Path.Combine(output, "metrics.json")).Should().BeTrue();
    }
}
