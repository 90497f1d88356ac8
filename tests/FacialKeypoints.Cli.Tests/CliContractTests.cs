using FacialKeypoints.Cli;
using FacialKeypoints.Data;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Inference;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Tests;
using TorchSharp;

namespace FacialKeypoints.Cli.Tests;

[Collection("console")] // the commands write to Console.Error
public sealed class CliContractTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, true);

    private string Model()
    {
        torch.manual_seed(3);
        using var network = new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new ReferenceHead(512, 68));
        string path = Path.Combine(folder, "model.safetensors");
        KeypointCheckpoint.Save(path, network, ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet));
        return path;
    }

    /// <summary>A small random landmark network as ONNX, the format predict runs.</summary>
    private string OnnxModel()
    {
        torch.manual_seed(3);
        using var network = new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new ReferenceHead(512, 68));
        string path = Path.Combine(folder, "model.onnx");
        OnnxExport.Save(network, ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet), path);
        return path;
    }

    private string Images()
    {
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(Path.Combine(images, "sub"));
        var random = new Random(2);
        foreach (var (name, w, h) in new[] { ("a_01.jpg", 80, 120), ("sub/b_02.png", 300, 200) })
        {
            var image = new RgbImage(w, h);
            random.NextBytes(image.Pixels);
            KeypointOverlay.SavePng(image, Path.Combine(images, name)); // a PNG named .jpg, like the dataset
        }

        File.WriteAllText(Path.Combine(images, "broken.jpg"), "not an image");
        return images;
    }

    private static int Predict(params string[] args) => PredictCapturingErrors(args).Code;

    private static (int Code, string Errors) PredictCapturingErrors(params string[] args)
    {
        var (code, _, errors) = Fkp.Run(["predict", .. args, "--quiet"]);
        return (code, errors);
    }

    [Fact]
    public void Predict_FolderWithOneBadFile_WritesOthersNamesFailureAndExitsNonZero()
    {
        string images = Images(), output = Path.Combine(folder, "out.csv");

        var (code, errors) = PredictCapturingErrors(images, "--no-detect", "--no-expression", "--model", OnnxModel(), "--out", output);

        code.Should().NotBe(0);
        errors.Should().Contain("broken.jpg").And.Contain("2 face(s)").And.Contain("1 failed");
        var lines = File.ReadAllLines(output);
        lines[0].Should().Be("name," + string.Join(",", Enumerable.Range(0, 68).Select(i => $"x{i},y{i}")) + "," + string.Join(",", PredictCommand.ExtraColumns));
        lines[0].Split(',')[137].Should().Be("expression");
        lines.Skip(1).Select(l => l.Split(',')[0]).Should().Equal("a_01.jpg", "sub/b_02.png");
        var row = lines[2].Split(',');
        row.Should().HaveCount(1 + 136 + PredictCommand.ExtraColumns.Length);
        row[138..144].Should().Equal("0", "0", "0", "300", "200", "1"); // face 0, the whole image, score 1
    }

    [Fact]
    public void Predict_Output_ReadsBackWithTheKeypointCsvReader()
    {
        string images = Images(), output = Path.Combine(folder, "out.csv");
        PredictCapturingErrors(images, "--no-detect", "--no-expression", "--model", OnnxModel(), "--out", output);

        var read = KeypointCsvReader.Read(output, LandmarkScheme.Ibug68);

        read.Records.Select(r => r.Name).Should().Equal("a_01.jpg", "sub/b_02.png");
        read.Records[1].Keypoints.Should().HaveCount(136).And.OnlyContain(v => float.IsFinite(v));
    }

    [Fact]
    public void Predict_FlipAveragingIsTheDefault_AndFlipFalseIsOnePass()
    {
        string images = Images(), model = OnnxModel();
        string Run(string name, params string[] options)
        {
            string output = Path.Combine(folder, name);
            PredictCapturingErrors([images, "--no-detect", "--no-expression", "--model", model, "--out", output, .. options]);
            return File.ReadAllText(output);
        }

        string byDefault = Run("default.csv"), flip = Run("flip.csv", "--flip"), flipTrue = Run("flip-true.csv", "--flip", "true");
        string onePass = Run("one-pass.csv", "--flip", "false");

        byDefault.Should().Be(flip).And.Be(flipTrue);
        onePass.Should().NotBe(byDefault, "one landmark pass differs from the average with the mirrored face");
        new FacePipelineOptions().FlipAverage.Should().BeTrue("the library's default is the CLI's");
    }

    [Fact]
    public void Predict_NamesWithCommasAndQuotes_ReadBackUnchangedWithTheKeypointCsvReader()
    {
        string images = Path.Combine(folder, "awkward"), output = Path.Combine(folder, "awkward.csv");
        Directory.CreateDirectory(images);
        string[] names = ["Smith, Jane_01.png", "O\"Neil_02.png"];
        foreach (string name in names)
        {
            KeypointOverlay.SavePng(new RgbImage(64, 64), Path.Combine(images, name));
        }

        Predict(images, "--no-detect", "--no-expression", "--model", OnnxModel(), "--out", output).Should().Be(0);

        var read = KeypointCsvReader.Read(output, LandmarkScheme.Ibug68);
        read.Records.Select(r => r.Name).Should().BeEquivalentTo(names);
        read.Records.Should().OnlyContain(r => r.Keypoints.Length == 136);
    }

    [Fact]
    public void Predict_ListRestrictsAndOrdersRows_AndAnnotates()
    {
        string images = Images(), output = Path.Combine(folder, "out.csv"), list = Path.Combine(folder, "list.csv"), overlays = Path.Combine(folder, "overlays");
        File.WriteAllText(list, ",0,1\nsub/b_02.png,1,2\na_01.jpg,3,4\n");
        Predict(images, "--list", list, "--no-detect", "--no-expression", "--model", OnnxModel(), "--out", output, "--annotate", overlays).Should().Be(0);
        var lines = File.ReadAllLines(output);
        lines.Skip(1).Select(l => l.Split(',')[0]).Should().Equal("sub/b_02.png", "a_01.jpg");
        File.Exists(Path.Combine(overlays, "a_01.png")).Should().BeTrue();
        File.Exists(Path.Combine(overlays, "sub", "b_02.png")).Should().BeTrue();
    }

    [Fact]
    public void Predict_NoFaceFound_IsNamedAndCountedButNotAFailure()
    {
        string images = Images(), list = Path.Combine(folder, "list.csv"), output = Path.Combine(folder, "o.csv");
        File.WriteAllText(list, "name\na_01.jpg\n");

        var (code, errors) = PredictCapturingErrors(images, "--list", list, "--no-expression", "--model", OnnxModel(), "--out", output);

        code.Should().Be(0);
        errors.Should().Contain("a_01.jpg: no face found").And.Contain("1 without a face");
        File.ReadAllLines(output).Should().HaveCount(1);
    }

    [Fact]
    public void Predict_ListedNameMissing_IsReportedAndExitIsNonZero()
    {
        string images = Images(), list = Path.Combine(folder, "list.csv");
        File.WriteAllText(list, "name\nnobody_00.jpg\na_01.jpg\n");
        var (code, errors) = PredictCapturingErrors(images, "--list", list, "--no-detect", "--no-expression", "--model", OnnxModel(), "--out", Path.Combine(folder, "o.csv"));
        code.Should().Be(1);
        errors.Should().Contain("nobody_00.jpg");
        File.ReadAllLines(Path.Combine(folder, "o.csv")).Should().HaveCount(2);
    }

    [Fact]
    public void Predict_MistypedOption_IsRefusedAndTheRightOneSuggested()
    {
        var (code, errors) = PredictCapturingErrors(Images(), "--modle", "x");
        code.Should().Be(FkpCommandLine.UsageError);
        errors.Should().Contain("Unknown option '--modle'").And.Contain("Did you mean '--model'?").And.Contain("fkp predict --help");
    }

    [Fact]
    public void Predict_BadPrecision_IsRefusedWithTheChoices()
    {
        var (code, errors) = PredictCapturingErrors(Images(), "--precision", "int4");
        code.Should().Be(FkpCommandLine.UsageError);
        errors.Should().Contain("--precision must be int8 or float32, not 'int4'");
    }

    [Fact]
    public void Predict_NoImages_IsRefused() => PredictCapturingErrors().Code.Should().Be(FkpCommandLine.UsageError);

    [Theory]
    [InlineData("predict", "--detector <auto|front|back|none>", "[default: int8]")]
    [InlineData("video", "--redetect", "[default: 10]")]
    [InlineData("evaluate", "--split", "[default: 42]")]
    [InlineData("export", "--calibration-count", "[default: 64]")]
    [InlineData("average", "--out", "<models>")]
    [InlineData("summary", "--data", "[default: ")]
    [InlineData("bench-loader", "--workers", "[default: 2]")]
    [InlineData("bench-predict", "--device <cpu|cuda>", "[default: cpu]")]
    public void Help_OnEveryCommand_ExitsZeroAndListsOptionsWithDefaults(string command, string option, string detail)
    {
        foreach (string help in new[] { "--help", "-h" })
        {
            var (code, output, _) = Fkp.Run(command, help);
            code.Should().Be(0);
            output.Should().Contain($" {command} ").And.Contain(option).And.Contain(detail);
        }
    }

    [Fact]
    public void Version_PrintsAVersion()
    {
        var (code, output, _) = Fkp.Run("--version"); // the entry assembly's: fkp's in the tool, the test host's here
        code.Should().Be(0);
        output.Should().MatchRegex(@"^\d+\.\d+\.\d+");
    }

    [Fact]
    public void UnknownCommand_IsRefusedAndTheNearestSuggested()
    {
        var (code, output, errors) = Fkp.Run("prdict");
        code.Should().Be(FkpCommandLine.UsageError);
        (output + errors).Should().Contain("'prdict' was not matched").And.Contain("predict");
    }

    [Fact]
    public void Completion_SuggestsChoicesOfAnOption()
    {
        var completions = FkpCommandLine.Create().Parse("predict a.jpg --precision ").GetCompletions().Select(c => c.Label);
        completions.Should().BeEquivalentTo(["int8", "float32"]);
    }

    [Fact]
    public void BenchPredict_ReportsBothModesAndTheExpressionClassifierWithPositiveLatencies()
    {
        var (code, output, _) = Fkp.Run("bench-predict", "--data", TestEnvironment.KeypointData, "--model", Model(), "--images", "3", "--expression", "network");

        code.Should().Be(0);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().StartWith("3 test images");
        lines.Should().Contain(l => l.StartsWith("64 px, single pass: one at a time median ", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("64 px, flip-averaged: one at a time median ", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("expression 'network': one at a time median ", StringComparison.Ordinal));
        foreach (string line in lines.Skip(1))
        {
            double median = double.Parse(line.Split("median ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            median.Should().BePositive();
        }
    }

    [Fact]
    public void BenchPredict_ZeroImages_IsRefused()
    {
        var (code, _, errors) = Fkp.Run("bench-predict", "--images", "0");
        code.Should().Be(FkpCommandLine.UsageError);
        errors.Should().Contain("--images must be at least 1");
    }

    [Fact]
    public void Average_OfTwoNetworks_IsTheirElementwiseMeanWithTheFirstsMetadata()
    {
        string first = Model();
        string second = Path.Combine(folder, "second.safetensors");
        torch.manual_seed(4);
        using (var network = new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new ReferenceHead(512, 68)))
        {
            KeypointCheckpoint.Save(second, network, ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet));
        }

        string snapshot = Path.Combine(folder, "snapshot.bin");
        var (c, _) = KeypointCheckpoint.Load(second);
        using (c)
        {
            c.save(snapshot); // the trainer's snapshot format
        }

        string output = Path.Combine(folder, "mean.safetensors");
        Fkp.Run("average", "--out", output, first, snapshot).Code.Should().Be(0);

        var (a, metadata) = KeypointCheckpoint.Load(first);
        var (b, _) = KeypointCheckpoint.Load(second);
        var (mean, meanMetadata) = KeypointCheckpoint.Load(output);
        using (a)
        using (b)
        using (mean)
        {
            meanMetadata.InputWidth.Should().Be(metadata.InputWidth);
            var expected = a.state_dict();
            var other = b.state_dict();
            foreach (var (name, value) in mean.state_dict())
            {
                if (value.is_floating_point())
                {
                    var want = expected[name].add(other[name]).div(2);
                    value.allclose(want, rtol: 1e-5, atol: 1e-6).Should().BeTrue(name);
                }
            }
        }
    }

    [Fact]
    public void Average_OfOneModel_IsRefused() =>
        Fkp.Run("average", "--out", Path.Combine(folder, "x.safetensors"), Model()).Code.Should().Be(FkpCommandLine.UsageError);

    [Fact]
    public void Evaluate_ValidationSplit_ScoresExactlyTheTrainersHeldOutRows()
    {
        string outDir = Path.Combine(folder, "eval");
        Fkp.Run("evaluate", "--data", TestEnvironment.KeypointData, "--split", "validation", "--validation-fraction", "0.01", "--seed", "7", "--model", Model(), "--out", outDir, "--no-detect")
            .Code.Should().Be(0);

        var training = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        var expected = DatasetSplits.Random(training.Count, 0.01, 7).Validation.Select(i => training.Records[i].Name);
        var written = KeypointCsvReader.Read(Path.Combine(outDir, "predictions.csv"), LandmarkScheme.Ibug68).Records.Select(r => r.Name);
        written.Should().Equal(expected);
        File.ReadLines(Path.Combine(outDir, "per-image-errors.csv")).First().Should().Be("name,nme,nme_orig,mpe224,mae224");
        File.ReadAllText(Path.Combine(outDir, "metrics.json")).Should().Contain("\"images\": 35");
    }
}
