using FacialKeypoints.Cli;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Tests;
using FluentAssertions;
using TorchSharp;

namespace FacialKeypoints.Cli.Tests;

[Collection("console")] // the command writes to the console
public sealed class ExportCommandTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, true);

    [Fact]
    public void Export_OnnxFloatAndInt8FromCsv_WritesBothFiles()
    {
        string model = Model();
        string csv = CalibrationCsv(count: 5);
        string fp32 = Path.Combine(folder, "m.onnx"), int8 = Path.Combine(folder, "m-int8.onnx");

        Fkp.Run("export", "--model", model, "--out", fp32, "--onnx").Code.Should().Be(0);
        Fkp.Run("export", "--model", model, "--out", int8, "--onnx", "--int8", "--calibration", csv, "--calibration-count", "3").Code.Should().Be(0);

        new FileInfo(fp32).Length.Should().BeGreaterThan(40_000_000);
        new FileInfo(int8).Length.Should().BeInRange(10_000_000, 16_000_000); // int8 weights: about a quarter
    }

    [Fact]
    public void Export_Float32OnnxAgainAsInt8_IsTheCheckpointsOwnInt8Export()
    {
        string model = Model(), csv = CalibrationCsv(count: 5);
        string fp32 = Path.Combine(folder, "m.onnx"), direct = Path.Combine(folder, "direct.onnx"), again = Path.Combine(folder, "again.onnx");
        string[] calibrate = ["--onnx", "--int8", "--calibration", csv, "--calibration-count", "3"];
        Fkp.Run("export", "--model", model, "--out", fp32, "--onnx").Code.Should().Be(0);
        Fkp.Run(["export", "--model", model, "--out", direct, .. calibrate]).Code.Should().Be(0);

        var (code, output, _) = Fkp.Run(["export", "--model", fp32, "--out", again, .. calibrate]);

        code.Should().Be(0);
        output.Should().Contain("ONNX int8, from the float32");
        File.ReadAllBytes(again).Should().Equal(File.ReadAllBytes(direct), "the same graph, weights, calibration and metadata");
        var (refused, _, errors) = Fkp.Run("export", "--model", fp32, "--out", Path.Combine(folder, "x.onnx"), "--onnx");
        refused.Should().Be(FkpCommandLine.UsageError);
        errors.Should().Contain("An ONNX --model can only be written again as int8");
    }

    [Fact]
    public void CalibrationFiles_CsvOfTheDatasetLayout_PicksEvenlySpacedRowsFromTheSplitFolder()
    {
        string csv = CalibrationCsv(count: 10);
        var files = ExportCommand.CalibrationFiles(csv, 4);
        files.Select(Path.GetFileName).Should().Equal("face_00.jpg", "face_02.jpg", "face_05.jpg", "face_07.jpg");
        files.Should().OnlyContain(f => Path.GetDirectoryName(f) == Path.Combine(folder, "training"));
    }

    [Fact]
    public void CalibrationFiles_FolderWithFewerImagesThanAsked_TakesAllImagesSortedAndSkipsOtherFiles()
    {
        string csv = CalibrationCsv(count: 3);
        File.WriteAllText(Path.Combine(folder, "training", "notes.txt"), "not an image");
        ExportCommand.CalibrationFiles(Path.Combine(folder, "training"), 64).Select(Path.GetFileName)
            .Should().Equal("face_00.jpg", "face_01.jpg", "face_02.jpg");
        csv.Should().NotBeNull();
    }

    [Theory]
    [InlineData("--onnx", "--int8")]
    [InlineData("--int8", "--calibration", "x")]
    [InlineData("--onnx", "--fp16")]
    public void Export_InconsistentOptions_ExitsWithUsageErrorNamingTheOption(params string[] options)
    {
        string model = Model();
        var (code, _, errors) = Fkp.Run(["export", "--model", model, "--out", Path.Combine(folder, "x.onnx"), .. options]);
        code.Should().Be(FkpCommandLine.UsageError);
        errors.Should().Contain(options[0] == "--onnx" ? options[1] : "--calibration");
    }

    private string Model()
    {
        torch.manual_seed(4);
        using var network = new KeypointNetwork(LandmarkScheme.Ibug68.Count);
        string path = Path.Combine(folder, "model.safetensors");
        KeypointCheckpoint.Save(path, network, ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet));
        return path;
    }

    /// <summary>A CSV in the dataset's layout (<c>training_frames_keypoints.csv</c> beside <c>training/</c>) naming small random images.</summary>
    private string CalibrationCsv(int count)
    {
        string images = Path.Combine(folder, "training");
        Directory.CreateDirectory(images);
        var random = new Random(5);
        var lines = new List<string> { "," + string.Join(",", Enumerable.Range(0, 136)) };
        for (int i = 0; i < count; i++)
        {
            string name = $"face_{i:00}.jpg";
            var image = new RgbImage(40 + i, 50);
            random.NextBytes(image.Pixels);
            KeypointOverlay.SavePng(image, Path.Combine(images, name)); // a PNG named .jpg, like the dataset
            lines.Add(name + "," + string.Join(",", Enumerable.Repeat("10.0", 136)));
        }

        string csv = Path.Combine(folder, "training_frames_keypoints.csv");
        File.WriteAllLines(csv, lines);
        return csv;
    }
}
