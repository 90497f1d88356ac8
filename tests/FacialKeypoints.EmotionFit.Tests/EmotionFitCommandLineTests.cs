using System.Text.RegularExpressions;
using FacialKeypoints.Emotion;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Tests;

namespace FacialKeypoints.EmotionFit.Tests;

/// <summary>
/// EmotionFit's command line: every command line the docs quote parses to the settings it is meant to have, help and
/// version exit 0, and a wrong command line exits 2 naming the problem. Nothing here fits a model.
/// </summary>
public class EmotionFitCommandLineTests
{
    private const string Checkpoint = "src/FacialKeypoints.Models.Pretrained/facial-keypoints-resnet18.safetensors";
    private const string Shipped = "src/FacialKeypoints.Emotion/Resources/expression-network.safetensors";

    // The prefixes docs/emotion-results.md sets as $EF and $FIT, without the dotnet command.
    private static readonly string[] Fit = ["--data", "../shared/data", "--threads", "2", "--jitter", "0", "--eval-landmarks", "pts.csv"];
    private static readonly string[] FitRound2 = ["--threads", "1", "--jitter", "0"];

    public static TheoryData<string> DocumentedCommandLines()
    {
        var data = new TheoryData<string>();
        foreach (string line in DocumentedEmotionFitCommandLines())
        {
            data.Add(line);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DocumentedCommandLines))]
    public void Parse_EveryCommandLineInTheDocs_HasNoErrors(string commandLine)
    {
        var (parse, settings) = EmotionFitCommandLine.Parse(Split(commandLine));

        parse.Errors.Select(e => e.Message).Should().BeEmpty(commandLine);
        parse.UnmatchedTokens.Should().BeEmpty(commandLine);
        settings.Should().NotBeNull();
    }

    [Fact]
    public void DocumentedCommandLines_AreFound()
    {
        // The scan below must keep seeing the docs' command lines: the landmark cache, training, evaluation, the plain
        // refit, the network rounds, the search and the out-of-fold sheets.
        var lines = DocumentedEmotionFitCommandLines();

        lines.Should().HaveCountGreaterThanOrEqualTo(20);
        foreach (string option in new[] { "--cache-landmarks", "--train-expression", "--evaluate-expression", "--network", "--pretrain-out", "--search", "--oof-gallery", "--add-member", "--landmark-gallery" })
        {
            lines.Should().Contain(l => l.Contains(option, StringComparison.Ordinal), option);
        }
    }

    [Fact]
    public void Parse_CacheLandmarks_IsTheExpressionCommandWithItsModelAndThreads()
    {
        var s = Settings("--cache-landmarks", "/work/data-extra/expression-cache/landmarks.csv", "--keypoint-model", Checkpoint, "--threads", "2");

        s.IsExpressionCommand.Should().BeTrue();
        s.CacheLandmarks.Should().Be("/work/data-extra/expression-cache/landmarks.csv");
        s.KeypointModelPath.Should().Be(Checkpoint);
        s.Threads.Should().Be(2);
        s.PerSource.Should().Be(8);
        s.Padding.Should().BeEmpty();
    }

    [Fact]
    public void Parse_TrainExpression_TakesItsScheduleNotTheNetworksDefaults()
    {
        var s = Settings("--train-expression", "runs/expression-r1", "--epochs", "4", "--batch", "64", "--lr", "1e-3", "--threads", "2");

        s.TrainExpression.Should().Be("runs/expression-r1");
        (s.ExpressionEpochs, s.ExpressionBatch, s.ExpressionLearningRate, s.Threads).Should().Be((4, 64, 1e-3, 2));
        (s.ExpressionWeightDecay, s.ExpressionDropout, s.ExpressionSeed, s.MuxPerClass, s.TaiwaneseRepeat, s.MaxSteps).Should().Be((1e-4, 0.2, 11, 2000, 2, 0));
        s.CacheDirectory.Should().Be("/work/data-extra/expression-cache");
        s.BorderFill.Should().Be(0.75);
    }

    [Fact]
    public void Parse_BorderFillAndTaiwaneseReplay_AreRead()
    {
        var s = Settings("--train-expression", "runs/r3", "--taiwanese-repeat", "6", "--border-fill", "0");
        var e = Settings("--evaluate-expression", "runs/r3", "--weights", "expression.onnx", "--replay-taiwanese", "4");

        (s.TaiwaneseRepeat, s.BorderFill).Should().Be((6, 0.0));
        (e.Weights, e.TaiwaneseReplayFactor).Should().Be(("expression.onnx", 4.0));
    }

    [Fact]
    public void Parse_TrainExpressionWithoutSchedule_UsesItsOwnDefaults()
    {
        var s = Settings("--train-expression", "runs/x");

        (s.ExpressionEpochs, s.ExpressionBatch, s.ExpressionLearningRate, s.ExpressionSeed).Should().Be((4, 64, 1e-3, 11));
        s.NetworkOptions.Epochs.Should().Be(new ExpressionNetworkOptions().Epochs);
    }

    [Fact]
    public void Parse_EvaluateExpression_FinalCommand()
    {
        var s = Settings("--evaluate-expression", "runs/expression-r1", "--threads", "2", "--mirror-average", "--replay-weight", "1", "--refit-l2", "0.01",
            "--report", "runs/expression-r1/report-final2.md", "--gallery", "docs/images/expression-negatives.png",
            "--export", "src/FacialKeypoints.Inference/Models/expression.onnx");

        s.EvaluateExpression.Should().Be("runs/expression-r1");
        s.MirrorAverage.Should().BeTrue();
        (s.ReplayWeight, s.RefitL2, s.RefitGrid, s.FinetuneSteps).Should().Be((1.0, 0.01, false, 0));
        s.ReportPath.Should().Be("runs/expression-r1/report-final2.md");
        s.Gallery.Should().Be("docs/images/expression-negatives.png");
        s.Export.Should().Be("src/FacialKeypoints.Inference/Models/expression.onnx");
    }

    [Fact]
    public void Parse_FinetuneTaiwanese_DefaultsToProportionalAndTakesACount()
    {
        Settings("--evaluate-expression", "runs/r4", "--finetune-steps", "150").FinetuneTaiwanese.Should().BeNull();

        var s = Settings("--evaluate-expression", "runs/r4", "--finetune-steps", "300", "--finetune-taiwanese", "16", "--finetune-refit");

        (s.FinetuneSteps, s.FinetuneTaiwanese, s.FinetuneRefit).Should().Be((300, 16, true));
    }

    [Fact]
    public void Parse_ResidualHidden_DefaultsToTheLinearHead()
    {
        Settings("--evaluate-expression", "runs/r4").ResidualHidden.Should().Be(0);
        Settings("--evaluate-expression", "runs/r4", "--refit-grid", "--residual-hidden", "32").ResidualHidden.Should().Be(32);
    }

    [Fact]
    public void Parse_EvaluateExpressionRefitGrid_SetsTheGridAndDefaults()
    {
        var s = Settings("--evaluate-expression", "runs/expression-r1", "--threads", "2", "--refit-grid", "--mirror-average");

        (s.RefitGrid, s.MirrorAverage, s.ReplayWeight, s.RefitL2).Should().Be((true, true, 0.5, 0.01));
        s.ReportPath.Should().BeNull(); // RUN/report.md, chosen by the evaluation
    }

    [Fact]
    public void Parse_ShippedLinearRefit_KeepsTheShippedDesign()
    {
        var s = Settings("--threads", "2", "--out", "src/FacialKeypoints.Emotion/Resources/expression-model.json", "--report", "emotion-report.md");

        s.IsExpressionCommand.Should().BeFalse();
        (s.Network, s.Search, s.Gallery, s.PretrainOut, s.OutOfFoldGallery).Should().Be((false, false, (string?)null, (string?)null, (string?)null));
        s.OutPath.Should().Be("src/FacialKeypoints.Emotion/Resources/expression-model.json");
        s.ReportPath.Should().Be("emotion-report.md");
        s.Jitter.Should().Be(0.03);
        s.Fit.Describe().Should().Be(new ExpressionFitOptions().Describe());
    }

    [Fact]
    public void Parse_PredictedLandmarks_FitsOnOneCsvAndScoresOnAnother()
    {
        var s = Settings("--threads", "1", "--landmarks", "predictions-points.csv", "--eval-landmarks", "predictions-points.csv", "--out", "/tmp/predfit.json", "--report", "emotion-report-predfit.md");

        s.LandmarksPath.Should().Be("predictions-points.csv");
        s.EvaluationLandmarksPath.Should().Be("predictions-points.csv");
        s.OutPath.Should().Be("/tmp/predfit.json");
    }

    [Fact]
    public void Parse_NetworkB_SetsCropAndEpochs()
    {
        var s = Settings([.. Fit, "--network", "--net-crop", "0,0.85,1.6,128", "--epochs", "10", "--cv-out", "cv-b.csv", "--report", "b.md"]);

        s.DataRoot.Should().Be("../shared/data");
        (s.Threads, s.Jitter, s.EvaluationLandmarksPath).Should().Be((2, 0.0, "pts.csv"));
        s.Network.Should().BeTrue();
        s.NetworkOptions.Crop.Should().Be(new CropSpec(0f, 0.85f, 1.6f, 128));
        s.NetworkOptions.Epochs.Should().Be(10);
        s.NetworkOptions.BatchSize.Should().Be(new ExpressionNetworkOptions().BatchSize);
        s.CrossValidationOut.Should().Be("cv-b.csv");
        s.ReportPath.Should().Be("b.md");
    }

    [Fact]
    public void Parse_PretrainThenNetwork_UsesThePretrainingDefaults()
    {
        var s = Settings([.. Fit, "--pretrain-out", "pretrained-face.safetensors", "--network", "--cv-out", "cv-c.csv", "--report", "c.md"]);

        s.PretrainOut.Should().Be("pretrained-face.safetensors");
        s.Network.Should().BeTrue();
        s.PretrainNetwork.Describe().Should().Be(new LandmarkPretrainingOptions().Network.Describe());
        s.PretrainValidation.Should().Be(0.1);
        s.NetworkOptions.InitialBackbonePath.Should().BeNull(); // set to the pretrained file once it is written
    }

    [Fact]
    public void Parse_PretrainOptions_ArePrefixedAndApartFromTheNetworks()
    {
        var s = Settings("--pretrain-out", "p.safetensors", "--pt-epochs", "3", "--pt-lr", "0.01", "--pt-net-crop", "whole", "--epochs", "7");

        (s.PretrainNetwork.Epochs, s.PretrainNetwork.LearningRate, s.PretrainNetwork.Crop).Should().Be((3, 0.01, CropSpec.WholeFace));
        s.PretrainNetwork.FirstTrainedStage.Should().Be(2);
        s.NetworkOptions.Epochs.Should().Be(7);
    }

    [Fact]
    public void Parse_NetworkD_StartsFromThePretrainedBackbone()
    {
        var s = Settings([.. Fit, "--network", "--init", "pretrained-face.safetensors", "--first-trained", "2", "--seed", "1", "--cv-out", "cv-d.csv", "--report", "d.md"]);

        s.NetworkOptions.InitialBackbonePath.Should().Be("pretrained-face.safetensors");
        (s.NetworkOptions.FirstTrainedStage, s.NetworkOptions.Seed).Should().Be((2, 1));
        s.ExpressionSeed.Should().Be(1);
    }

    [Fact]
    public void Parse_ShippedNetworkSecondMember_AppendsWithoutCrossValidation()
    {
        var s = Settings([.. Fit, "--network", "--no-cv", "--init", "pretrained-face.safetensors", "--seed", "1", "--first-trained", "2", "--add-member", "--out-network", Shipped]);

        (s.Network, s.NoCrossValidation, s.AddMember).Should().Be((true, true, true));
        s.NetworkOutPath.Should().Be(Shipped);
        (s.NetworkOptions.Seed, s.NetworkOptions.FirstTrainedStage).Should().Be((1, 2));
    }

    [Fact]
    public void Parse_OutOfFoldGallery_SplitsTheFiles()
    {
        var s = Settings([.. Fit, "--oof-gallery", "sheets", "--oof", "cv-c.csv,cv-d.csv,cv-lin.csv"]);

        s.OutOfFoldGallery.Should().Be("sheets");
        s.OutOfFoldFiles.Should().Equal("cv-c.csv", "cv-d.csv", "cv-lin.csv");
    }

    [Fact]
    public void Parse_Search_WithKeypointModelAndTrainingCopies()
    {
        var s = Settings([.. FitRound2, "--search", "--keypoint-model", Checkpoint, "--landmarks", "predictions-points.csv", "--out", "/tmp/s3.json", "--report", "s3.md", "--train-mirror", "--train-jitter", "1"]);

        (s.Search, s.TrainMirror, s.TrainJitter, s.Jitter).Should().Be((true, true, 1, 0.0));
        s.KeypointModelPath.Should().Be(Checkpoint);
    }

    [Fact]
    public void Parse_FitSettings_BecomeTheFitOptions()
    {
        var s = Settings("--geometry", "false", "--photometric", "true", "--appearance", "--backbone", "both", "--crop", "0,0.45,2.2,160",
            "--pooling", "layer3grid2+layer4", "--mirror", "true", "--l2", "0.5", "--class-weight-power", "0.5", "--appearance-weight", "0.2", "--negative", "learn");

        var f = s.Fit;
        (f.UseGeometry, f.UsePhotometric, f.UseAppearance, f.AverageMirror).Should().Be((false, true, true, true));
        f.Backbone.Should().Be(AppearanceBackbone.Both);
        f.Crop.Should().Be(new CropSpec(0f, 0.45f, 2.2f, 160));
        f.Pooling.Should().Be(AppearancePooling.Layer3Grid2AndLayer4);
        (f.L2, f.ClassWeightPower, f.AppearanceWeight, f.Negative).Should().Be((0.5, 0.5, 0.2, NegativeHandling.Learn));
        s.NetworkOptions.Negative.Should().Be(NegativeHandling.Learn);
    }

    [Theory]
    [InlineData("face224")]
    [InlineData("lower")]
    [InlineData("whole")]
    public void Parse_NamedCrops_AreTheLibrarysCrops(string name)
    {
        var expected = name switch { "face224" => CropSpec.Face224, "lower" => CropSpec.LowerFace, _ => CropSpec.WholeFace };

        Settings("--crop", name).Fit.Crop.Should().Be(expected);
    }

    [Fact]
    public void Parse_Padding_IsPerSource()
    {
        var s = Settings("--landmark-gallery", "g.png", "--pad-fer", "0.4,0.5,0.45", "--per-source", "4");

        s.Padding.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, (float, float, float)>("fer", (0.4f, 0.5f, 0.45f)));
        ExpressionSources.PaddingOf("fer", s).Should().Be((0.4f, 0.5f, 0.45f));
        ExpressionSources.PaddingOf("taiwanese", s).Should().Be((0.35f, 0.4f, 0.35f));
        s.PerSource.Should().Be(4);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_ExitsZeroAndListsTheOptionsWithDefaults(string help)
    {
        var (code, output, errors) = Run(help);

        code.Should().Be(0);
        errors.Should().BeEmpty();
        output.Should().Contain("--eval-landmarks <CSV>")
            .And.Contain("--backbone <imagenet|keypoint|both>")
            .And.Contain("--negative <exclude|learn>")
            .And.Contain("--pooling <layer4|layer3+layer4|layer3grid2+layer4|landmarks-layer3|landmarks-layer2+3>")
            .And.Contain("--train-expression <DIR>")
            .And.Contain("--pt-epochs")
            .And.Contain("--pad-fer")
            .And.Contain("--version")
            .And.Contain("[default: expression-model.json]")
            .And.Contain("[default: 0.03]");
    }

    [Fact]
    public void Version_PrintsAVersion()
    {
        var (code, output, _) = Run("--version"); // the entry assembly's: EmotionFit's in the tool, the test host's here

        code.Should().Be(0);
        output.Should().MatchRegex(@"^\d+\.\d+\.\d+");
    }

    [Theory]
    [InlineData("--epoch", "--epochs")]
    [InlineData("--eval-landmark", "--eval-landmarks")]
    [InlineData("--netcrop", "--net-crop")]
    public void MistypedOption_ExitsTwoNamingItAndTheNearest(string typo, string nearest)
    {
        var (code, _, errors) = Run("--network", typo, "3");

        code.Should().Be(EmotionFitCommandLine.UsageError);
        errors.Should().Contain($"Unknown option '{typo}'. Did you mean '{nearest}'?").And.Contain("EmotionFit --help");
        errors.Should().NotContain("Unexpected argument"); // "3" is the unknown option's value
    }

    [Fact]
    public void UnknownOption_FarFromAny_IsNamed()
    {
        var (code, _, errors) = Run("--completely-unknown");

        code.Should().Be(EmotionFitCommandLine.UsageError);
        errors.Should().Contain("Unknown option '--completely-unknown'.");
    }

    [Fact]
    public void StrayArgument_IsRefused()
    {
        var (code, _, errors) = Run("labels.csv");

        code.Should().Be(EmotionFitCommandLine.UsageError);
        errors.Should().Contain("Unexpected argument 'labels.csv'");
    }

    [Theory]
    [InlineData("--backbone", "resnet", "--backbone must be imagenet, keypoint or both, not 'resnet'")]
    [InlineData("--negative", "maybe", "--negative must be exclude or learn, not 'maybe'")]
    [InlineData("--crop", "1,2", "--crop takes face224, lower, whole or centreU,centreV,extent,size; not '1,2'")]
    [InlineData("--stages", "5", "--stages must be 3 or 4, not 5")]
    [InlineData("--pad-fer", "0.4,0.5", "--pad-fer takes three fractions")]
    [InlineData("--epochs", "many", "many")]
    [InlineData("--border-fill", "1.5", "--border-fill must be a share from 0 to 1, not 1.5.")]
    [InlineData("--residual-hidden", "-1", "--residual-hidden must be 0 or more, not -1.")]
    [InlineData("--finetune-taiwanese", "41", "--finetune-taiwanese must be from 0 to 40 (replayed faces per batch), not 41.")]
    public void BadValue_ExitsTwoNamingTheOption(string option, string value, string expected)
    {
        var (code, _, errors) = Run(option, value);

        code.Should().Be(EmotionFitCommandLine.UsageError);
        errors.Should().Contain(expected);
    }

    [Fact]
    public void QuantizeExpression_WithoutExport_ExitsTwoSayingWhatIsMissing()
    {
        string folder = TestEnvironment.NewTempDirectory();
        try
        {
            string source = ExpressionQuantizationTests.WriteFloatNetwork(folder);
            var (code, _, errors) = Run(["--quantize-expression", source], s => ExpressionQuantization.Run(s, TestEnvironment.DataRoot, _ => { }));

            code.Should().Be(EmotionFitCommandLine.UsageError);
            errors.Trim().Should().Be("EmotionFit: --quantize-expression needs --export FILE: the int8 model to write.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void UserError_InTheWork_IsOneLineAndExitsTwo()
    {
        var (code, _, errors) = Run(["--labels", "missing.csv"], _ => throw new FileNotFoundException("Label CSV 'missing.csv' does not exist."));

        code.Should().Be(EmotionFitCommandLine.UsageError);
        errors.Trim().Should().Be("EmotionFit: Label CSV 'missing.csv' does not exist.");
    }

    [Fact]
    public void MissingLabelFile_RealRun_IsOneLineNamingItAndExitsTwo()
    {
        string folder = TestEnvironment.NewTempDirectory();
        try
        {
            string missing = Path.Combine(folder, "missing.csv");
            var entry = typeof(EmotionFitCommandLine).Assembly.EntryPoint!;
            var (code, _, errors) = Capture(() => (int)entry.Invoke(null, [new[] { "--data", folder, "--labels", missing }])!);

            code.Should().Be(EmotionFitCommandLine.UsageError);
            errors.Should().Contain(missing).And.StartWith("EmotionFit: ");
            errors.Trim().Split('\n').Should().ContainSingle();
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    private static EmotionFitSettings Settings(params string[] args)
    {
        var (parse, settings) = EmotionFitCommandLine.Parse(args);
        parse.Errors.Select(e => e.Message).Should().BeEmpty();
        return settings!;
    }

    private static (int Code, string Output, string Errors) Run(params string[] args) => Run(args, _ => 0);

    private static (int Code, string Output, string Errors) Run(string[] args, Func<EmotionFitSettings, int> run) =>
        Capture(() => EmotionFitCommandLine.Run(args, run));

    private static (int Code, string Output, string Errors) Capture(Func<int> action)
    {
        var (output, errors) = (new StringWriter(), new StringWriter());
        var (previousOut, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(errors);
        try
        {
            return (action(), output.ToString(), errors.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
        }
    }

    private static string[] Split(string commandLine) =>
        [.. Regex.Matches(commandLine, @"""[^""]*""|\S+").Select(m => m.Value.Trim('"'))];

    /// <summary>
    /// The EmotionFit command lines in docs/*.md and the README: in code blocks, lines running the EmotionFit dll or
    /// a variable set to it ($EF, $FIT, set earlier in the same file; continuation lines joined, comments and environment
    /// prefixes dropped), and inline <c>`EmotionFit --...`</c> spans; each returned once, as its arguments after the dll.
    /// </summary>
    private static List<string> DocumentedEmotionFitCommandLines()
    {
        string root = RepositoryRoot();
        var found = new List<string>();
        var files = Directory.GetFiles(Path.Combine(root, "docs"), "*.md", SearchOption.AllDirectories).Append(Path.Combine(root, "README.md")).Order(StringComparer.Ordinal);
        foreach (string file in files)
        {
            string text = File.ReadAllText(file);
            foreach (Match span in Regex.Matches(text, @"`EmotionFit (--[^`\[]*)`"))
            {
                found.Add(span.Groups[1].Value.Trim());
            }

            // Variables (EF="dotnet ...dll", FIT="..."): a use takes the latest setting before it, or the first after it
            // (emotion-results.md shows the out-of-fold command above the block that sets its $FIT).
            var settings = Regex.Matches(text, @"^(\w+)=""(.*)""\s*$", RegexOptions.Multiline)
                .Select(m => (At: m.Index, Name: m.Groups[1].Value, Value: m.Groups[2].Value)).ToList();
            string Resolve(string name, int at) =>
                settings.LastOrDefault(v => v.Name == name && v.At < at).Value
                ?? settings.FirstOrDefault(v => v.Name == name).Value
                ?? "$" + name;

            foreach (Match block in Regex.Matches(text, @"```[^\n]*\n(.*?)```", RegexOptions.Singleline))
            {
                var body = block.Groups[1];
                string expanded = Regex.Replace(body.Value, @"\$(\w+)", m => Resolve(m.Groups[1].Value, body.Index + m.Index));
                string joined = Regex.Replace(expanded, @"\\\r?\n\s*", " ");
                foreach (string raw in joined.Split('\n'))
                {
                    string line = Regex.Replace(raw, @"\s+#.*$", string.Empty).Trim();
                    if (Regex.IsMatch(line, @"^\w+="".*""$"))
                    {
                        continue;
                    }

                    line = Regex.Replace(line, @"^(\w+=\S+\s+)+", string.Empty); // EMOTIONFIT_GRID=keypoint $FIT ...
                    int dll = line.IndexOf("FacialKeypoints.EmotionFit.dll", StringComparison.Ordinal);
                    if (line.StartsWith("dotnet ", StringComparison.Ordinal) && dll >= 0)
                    {
                        found.Add(line[(dll + "FacialKeypoints.EmotionFit.dll".Length)..].Trim());
                    }
                }
            }
        }

        return [.. found.Select(l => Regex.Replace(l, @"\s+", " ")).Distinct(StringComparer.Ordinal)];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "docs", "emotion-results.md")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository (docs/emotion-results.md) was not found above the test folder.");
    }
}
