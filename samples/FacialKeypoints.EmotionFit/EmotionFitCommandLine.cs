using System.CommandLine;
using System.CommandLine.Invocation;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Emotion;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Models;

namespace FacialKeypoints.EmotionFit;

/// <summary>
/// EmotionFit's command line (System.CommandLine, as fkp and the trainer): typed options with their defaults in
/// <c>--help</c>, <c>--version</c>, enums for the closed choices, "did you mean" for a mistyped option, exit code 2
/// for a wrong command line or an unusable input file (one line on standard error, no stack trace). The work is
/// chosen by options, not subcommands, so that the command lines in docs/emotion-results.md keep working.
/// </summary>
internal sealed class EmotionFitCommandLine
{
    /// <summary>Exit code for a wrong command line or unusable input (a missing file, a malformed CSV).</summary>
    public const int UsageError = 2;

    /// <summary>The sources of the fetched expression sets, each with a <c>--pad-SOURCE</c> option.</summary>
    public static readonly string[] PaddedSources = ["fer", "taiwanese", "muxspace", "ours"];

    private static readonly ExpressionFitOptions FitDefaults = new();

    // The data and the outputs.
    private readonly Option<string> data = PathOption("--data", "DIR", "Dataset root holding facial-keypoints/ and expression-labels/ [default: $FKP_DATA or ../shared/data]");
    private readonly Option<string> labels = PathOption("--labels", "CSV", "The name,label CSV [default: DATA/expression-labels/training_expression_labels.csv]");
    private readonly Option<string> images = PathOption("--images", "DIR", "The image folder [default: DATA/facial-keypoints/training]");
    private readonly Option<string> landmarks = PathOption("--landmarks", "CSV", "Landmarks the model is FITTED on [default: DATA/facial-keypoints/training_frames_keypoints.csv]");
    private readonly Option<string> evalLandmarks = PathOption("--eval-landmarks", "CSV", "Landmarks the held-out faces are SCORED with, e.g. fkp predict output (name,x0,y0,...) [default: --landmarks]");
    private readonly Option<double> jitter = Value("--jitter", "Also score with landmarks jittered by Gaussian noise of F x inter-ocular distance (0: off)", 0.03, "F");
    private readonly Option<int> trainJitter = Value("--train-jitter", "Experiments: jittered copies of each training face", 0, "N");
    private readonly Option<bool> trainMirror = Flag("--train-mirror", "Experiments: a mirrored copy of each training face");
    private readonly Option<bool> search = Flag("--search", "Cross-validate a grid of designs, not only the chosen one (EMOTIONFIT_GRID=geometry|pooling|landmarks|tune|fine|mirror|final|keypoint|photometric|predfit|keypoint-both picks one part)");
    private readonly Option<string> gallery = PathOption("--gallery", "PATH", "A folder of contact sheets of the geometry-only model's calls; with --evaluate-expression, a PNG of the network's calls");
    private readonly Option<string> output = Value("--out", "Where the fitted parameters are written", "expression-model.json", "FILE");
    private readonly Option<string> report = PathOption("--report", "FILE", "The Markdown report [default: emotion-report.md; RUN/report.md with --evaluate-expression]");
    private readonly Option<int> threads = Value("--threads", "Torch threads", 1, "N");
    private readonly Option<string> keypointModel = PathOption("--keypoint-model", "FILE", "The keypoint checkpoint for --backbone keypoint|both and the landmark commands [default: the shipped model beside the app]");

    // The linear model's design.
    private readonly Option<bool> geometry = Switch("--geometry", "Linear fit: landmark geometry features", FitDefaults.UseGeometry);
    private readonly Option<bool> photometric = Switch("--photometric", "Linear fit: lip colour against the skin", FitDefaults.UsePhotometric);
    private readonly Option<bool> appearance = Switch("--appearance", "Linear fit: ResNet-18 features of the crop", FitDefaults.UseAppearance);
    private readonly ChoiceOption<AppearanceBackbone> backbone = new("--backbone", "Linear fit: the appearance backbone (ImageNet, the keypoint network's, or both)", FitDefaults.Backbone, [], BackboneName);
    private readonly Option<CropSpec> crop = CropOption("--crop", $"Linear fit: the appearance crop [default: face224]");
    private readonly ChoiceOption<AppearancePooling> pooling = new("--pooling", "Linear fit: the backbone layers and their pooling", FitDefaults.Pooling, [], AppearanceNames.ToName);
    private readonly Option<bool> mirror = Switch("--mirror", "Linear fit: average the appearance with the mirrored crop's", FitDefaults.AverageMirror);
    private readonly Option<double> l2 = Value("--l2", "Linear fit: L2 penalty", FitDefaults.L2, "X");
    private readonly Option<double> appearanceWeight = Value("--appearance-weight", "Linear fit: weight of the appearance block", FitDefaults.AppearanceWeight, "X");

    // The convolutional network, its pretraining, the out-of-fold sheets.
    private readonly Option<bool> network = Flag("--network", "Cross-validate the convolutional classifier instead (settings: --net-crop ... --seed, --init)");
    private readonly Option<bool> noCv = Flag("--no-cv", "--network: skip its cross-validation");
    private readonly Option<string> outNetwork = PathOption("--out-network", "FILE", "--network: fit it on every labelled face and write it");
    private readonly Option<bool> addMember = Flag("--add-member", "--out-network: append it to the networks already in FILE (their probabilities are averaged)");
    private readonly Option<string> cvOut = PathOption("--cv-out", "CSV", "Write the out-of-fold probabilities (the plain refit's or --network's)");
    private readonly Option<string> netGallery = PathOption("--net-gallery", "DIR", "--network: contact sheets of its out-of-fold calls");
    private readonly Option<string> init = PathOption("--init", "FILE", "--network: backbone weights to start from (written by --pretrain-out) [default: ImageNet]");
    private readonly NetworkOptionSet networkOptions;
    private readonly Option<string> pretrainOut = PathOption("--pretrain-out", "FILE", "First pretrain the network's backbone on landmarks (labelled images left out) and write it; with --network the network starts from it (settings: the --pt- options)");
    private readonly Option<string> pretrainLandmarks = PathOption("--pretrain-landmarks", "CSV", "--pretrain-out: the keypoint CSV [default: DATA/facial-keypoints/training_frames_keypoints.csv]");
    private readonly Option<double> pretrainValidation = Value("--pretrain-validation", "--pretrain-out: fraction of identities scored, not trained on", 0.1, "F");
    private readonly NetworkOptionSet pretrainOptions;
    private readonly Option<string> oofGallery = PathOption("--oof-gallery", "DIR", "Contact sheets (found, missed, false alarms) of the average of the --oof files, without fitting anything");
    private readonly Option<string> oof = PathOption("--oof", "A.csv,B.csv", "--oof-gallery: out-of-fold files written by --cv-out, comma-separated");

    // The ten-logit expression network (issue 11).
    private readonly Option<string> expressionData = PathOption("--expression-data", "DIR", "Expression network: the sets fetched by docs/tools/get-expression-data.sh [default: $FKP_EXPRESSION_DATA or /work/data-extra/expression]");
    private readonly Option<string> landmarkGallery = PathOption("--landmark-gallery", "PNG", "Expression network: landmarks of a few faces per source, to check the padding into the keypoint framing");
    private readonly Option<int> perSource = Value("--per-source", "--landmark-gallery: faces per source", 8, "N");
    private readonly Option<string> cacheLandmarks = PathOption("--cache-landmarks", "CSV", "Expression network: predict and cache the landmarks of every fetched face (resumable)");
    private readonly Option<string> trainExpression = PathOption("--train-expression", "DIR", "Expression network: train it in this run folder (resumed when it holds one)");
    private readonly Option<string> evaluateExpression = PathOption("--evaluate-expression", "DIR", "Expression network: evaluate DIR/last.bin (FER test, held-out Taiwanese people, our frames, temperatures, colour check)");
    private readonly Option<string> cacheDir = Value("--cache-dir", "Expression network: the crop cache", "/work/data-extra/expression-cache", "DIR");
    private readonly Option<string> landmarksCsv = PathOption("--landmarks-csv", "CSV", "Expression network: the cached landmarks [default: CACHE/landmarks.csv]");
    private readonly Option<string> imagenetOnnx = PathOption("--imagenet-onnx", "FILE", "--train-expression: ResNet18.onnx to start from [default: the one beside the app]");
    private readonly Option<int> maxSteps = Value("--max-steps", "--train-expression: stop after N steps (0: no limit)", 0, "N");
    private readonly Option<int> muxPerClass = Value("--mux-per-class", "--train-expression: muxspace happy and neutral faces drawn per epoch", 2000, "N");
    private readonly Option<double> borderFill = Value("--border-fill", "--train-expression: share of the faces whose areas outside their image are filled with a random grey level instead of black (0 to 1)", 0.75, "SHARE");
    private readonly Option<int> taiwaneseRepeat = Value("--taiwanese-repeat", "--train-expression: times the training Taiwanese performers appear per epoch", 2, "N");
    private readonly Option<string> weights = PathOption("--weights", "FILE", "--evaluate-expression: the weights [default: RUN/last.bin]");
    private readonly Option<int> finetuneSteps = Value("--finetune-steps", "--evaluate-expression: fine-tune layer3 and the head on our frames for N steps instead of refitting the head (0: refit)", 0, "N");
    private readonly Option<int?> finetuneTaiwanese = new("--finetune-taiwanese")
    {
        Description = "--finetune-steps: of the 40 replayed faces per batch, N from the training Taiwanese performers (posed negatives) [default: drawn with the other sources]",
        HelpName = "N",
    };
    private readonly Option<bool> finetuneRefit = Flag("--finetune-refit", "--finetune-steps: then refit the three-class head on the fine-tuned features (--refit-l2, --replay-weight) instead of keeping the fine-tuned head");
    private readonly Option<int> residualHidden = Value("--residual-hidden", "--refit-grid: instead of the linear grid, cross-validate heads with a ReLU layer of N units beside the linear rows (0: the linear grid)", 0, "N");
    private readonly Option<bool> mirrorAverage = Flag("--mirror-average", "--evaluate-expression: average each face with its mirror image");
    private readonly Option<double> refitL2 = Value("--refit-l2", "--evaluate-expression: L2 of the head refit", 0.01, "X");
    private readonly Option<double> replayWeight = Value("--replay-weight", "--evaluate-expression: weight of the replayed training faces in the head refit", 0.5, "X");
    private readonly Option<double> replayTaiwanese = Value("--replay-taiwanese", "--evaluate-expression: extra factor on the replayed Taiwanese training performers (posed negatives) in the head refit", 1.0, "X");
    private readonly Option<bool> refitGrid = Flag("--refit-grid", "--evaluate-expression: choose --refit-l2, --replay-weight and --replay-taiwanese on a grid");
    private readonly Option<string> export = PathOption("--export", "ONNX", "--evaluate-expression: export the network with its refitted head; --quantize-expression: the int8 file to write");
    private readonly Option<string> quantizeExpression = PathOption("--quantize-expression", "ONNX", "Expression network: write this float32 file again as static int8 (to --export), calibrated on our labelled frames (--labels, --images, --landmarks), and compare the two files' calls");
    private readonly Option<int> calibrationCount = Value("--calibration-count", "--quantize-expression: labelled faces (each with its mirror image) that calibrate it", 64, "N");
    private readonly Dictionary<string, Option<(float Side, float Top, float Bottom)?>> padding;

    /// <summary>Builds the command; <paramref name="run"/> (when given) does the work of a parsed command line.</summary>
    /// <param name="run">The work, given the settings; returns the exit code.</param>
    public EmotionFitCommandLine(Func<EmotionFitSettings, int>? run = null)
    {
        networkOptions = new NetworkOptionSet(string.Empty, "--network", new ExpressionNetworkOptions(), new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["epochs"] = "4 with --train-expression",
            ["batch"] = "64 with --train-expression",
            ["lr"] = "0.001 with --train-expression",
            ["wd"] = "0.0001 with --train-expression",
            ["dropout"] = "0.2 with --train-expression",
            ["seed"] = "11 with --train-expression",
            ["class-weight-power"] = Invariant($"{FitDefaults.ClassWeightPower} for the linear fit"),
        });
        pretrainOptions = new NetworkOptionSet("pt-", "--pretrain-out", new LandmarkPretrainingOptions().Network, new Dictionary<string, string>(StringComparer.Ordinal));
        padding = PaddedSources.ToDictionary(s => s, s => PaddingOption($"--pad-{s}", s), StringComparer.Ordinal);
        borderFill.Validators.Add(result =>
        {
            double share = result.GetValueOrDefault<double>();
            if (!(share >= 0 && share <= 1))
            {
                result.AddError(Invariant($"--border-fill must be a share from 0 to 1, not {share}."));
            }
        });
        finetuneTaiwanese.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } n && n is < 0 or > ExpressionEvaluation.ReplayPerBatch)
            {
                result.AddError(Invariant($"--finetune-taiwanese must be from 0 to {ExpressionEvaluation.ReplayPerBatch} (replayed faces per batch), not {n}."));
            }
        });
        residualHidden.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError($"--residual-hidden must be 0 or more, not {result.GetValueOrDefault<int>()}.");
            }
        });
        calibrationCount.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError($"--calibration-count must be at least 1, not {result.GetValueOrDefault<int>()}.");
            }
        });

        Root = new RootCommand("EmotionFit: fits and evaluates the expression classifiers of FacialKeypoints.NET (the linear model with identity-grouped cross-validation, "
            + "the convolutional network and its landmark pretraining, the ten-logit expression network) and writes their files. Commands used for the shipped files: docs/emotion-results.md.");
        Option[] all =
        [
            data, labels, images, landmarks, evalLandmarks, jitter, trainJitter, trainMirror, search, gallery, output, report, threads, keypointModel,
            geometry, photometric, appearance, backbone, crop, pooling, mirror, l2, appearanceWeight,
            network, noCv, outNetwork, addMember, cvOut, netGallery, init, .. networkOptions.All,
            pretrainOut, pretrainLandmarks, pretrainValidation, .. pretrainOptions.All, oofGallery, oof,
            expressionData, landmarkGallery, perSource, cacheLandmarks, trainExpression, evaluateExpression, cacheDir, landmarksCsv, imagenetOnnx,
            maxSteps, muxPerClass, taiwaneseRepeat, borderFill, weights, finetuneSteps, finetuneTaiwanese, finetuneRefit, residualHidden, mirrorAverage, refitL2, replayWeight, replayTaiwanese, refitGrid, export, quantizeExpression, calibrationCount, .. padding.Values,
        ];
        foreach (var option in all)
        {
            Root.Options.Add(option);
        }

        if (run is not null)
        {
            Root.SetAction(parse => run(Bind(parse)));
        }
    }

    /// <summary>The root command: every option, <c>--help</c> and <c>--version</c>.</summary>
    public RootCommand Root { get; }

    /// <summary>Parses a command line without running it.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The parse result and its settings (null when the command line is wrong).</returns>
    public static (ParseResult Parse, EmotionFitSettings? Settings) Parse(params string[] args)
    {
        var commandLine = new EmotionFitCommandLine();
        var parse = commandLine.Root.Parse(args);
        return (parse, parse.Errors.Count == 0 && parse.UnmatchedTokens.Count == 0 ? commandLine.Bind(parse) : null);
    }

    /// <summary>
    /// Parses and runs one command line. An unknown option (with the nearest known one suggested), a value of the
    /// wrong type or a wrong choice, and user errors thrown by the work (a missing file, a malformed CSV or model) are
    /// written to standard error as one line each and give exit code 2.
    /// </summary>
    /// <param name="args">The arguments.</param>
    /// <param name="run">The work, given the settings; returns the exit code.</param>
    /// <returns>The exit code.</returns>
    public static int Run(IReadOnlyList<string> args, Func<EmotionFitSettings, int> run)
    {
        var commandLine = new EmotionFitCommandLine(run);
        var parse = commandLine.Root.Parse(args);
        if (parse.UnmatchedTokens.Count > 0)
        {
            // One line per unknown option, with the nearest known one; a stray value is named only when it is all
            // there is (after an unknown option it is that option's value).
            var unknown = parse.UnmatchedTokens.Where(t => t.StartsWith('-')).ToList();
            foreach (string token in unknown)
            {
                string? nearest = OptionSuggestions.Nearest(token, commandLine.Root.Options);
                Console.Error.WriteLine(nearest is null ? $"Unknown option '{token}'." : $"Unknown option '{token}'. Did you mean '{nearest}'?");
            }

            if (unknown.Count == 0)
            {
                Console.Error.WriteLine($"Unexpected argument '{parse.UnmatchedTokens[0]}': every setting is an option (--name value).");
            }

            Console.Error.WriteLine("Run 'EmotionFit --help' for the options.");
            return UsageError;
        }

        if (parse.Action is ParseErrorAction errorAction)
        {
            errorAction.ShowHelp = false; // the errors and a pointer to --help, not the whole help under them
        }

        try
        {
            int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            if (parse.Errors.Count > 0)
            {
                Console.Error.WriteLine("Run 'EmotionFit --help' for the options.");
                return UsageError;
            }

            return code;
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"EmotionFit: {e.Message}");
            return UsageError;
        }
    }

    /// <summary>The settings of a parsed command line.</summary>
    /// <param name="parse">A parse of <see cref="Root"/> without errors.</param>
    /// <returns>The settings.</returns>
    public EmotionFitSettings Bind(ParseResult parse)
    {
        var fit = new ExpressionFitOptions
        {
            UseGeometry = parse.GetValue(geometry),
            UsePhotometric = parse.GetValue(photometric),
            UseAppearance = parse.GetValue(appearance),
            Backbone = backbone.Get(parse),
            Crop = parse.GetValue(crop) ?? FitDefaults.Crop,
            Pooling = pooling.Get(parse),
            AverageMirror = parse.GetValue(mirror),
            L2 = parse.GetValue(l2),
            AppearanceWeight = parse.GetValue(appearanceWeight),
            ClassWeightPower = parse.GetValue(networkOptions.ClassWeightPower) ?? FitDefaults.ClassWeightPower,
            Negative = networkOptions.Negative.Get(parse),
        };
        var networkSettings = networkOptions.Bind(parse, new ExpressionNetworkOptions());
        networkSettings.InitialBackbonePath = parse.GetValue(init);
        var defaults = new EmotionFitSettings();
        return new EmotionFitSettings
        {
            DataRoot = parse.GetValue(data),
            LabelsPath = parse.GetValue(labels),
            ImageDirectory = parse.GetValue(images),
            LandmarksPath = parse.GetValue(landmarks),
            EvaluationLandmarksPath = parse.GetValue(evalLandmarks),
            Jitter = parse.GetValue(jitter),
            TrainJitter = parse.GetValue(trainJitter),
            TrainMirror = parse.GetValue(trainMirror),
            Search = parse.GetValue(search),
            Gallery = parse.GetValue(gallery),
            OutPath = parse.GetValue(output)!,
            ReportPath = parse.GetValue(report),
            Threads = parse.GetValue(threads),
            KeypointModelPath = parse.GetValue(keypointModel),
            Fit = fit,
            Network = parse.GetValue(network),
            NoCrossValidation = parse.GetValue(noCv),
            NetworkOutPath = parse.GetValue(outNetwork),
            AddMember = parse.GetValue(addMember),
            CrossValidationOut = parse.GetValue(cvOut),
            NetworkGallery = parse.GetValue(netGallery),
            NetworkOptions = networkSettings,
            PretrainOut = parse.GetValue(pretrainOut),
            PretrainLandmarksPath = parse.GetValue(pretrainLandmarks),
            PretrainValidation = parse.GetValue(pretrainValidation),
            PretrainNetwork = pretrainOptions.Bind(parse, new LandmarkPretrainingOptions().Network),
            OutOfFoldGallery = parse.GetValue(oofGallery),
            OutOfFoldFiles = parse.GetValue(oof) is { } files ? files.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
            ExpressionData = parse.GetValue(expressionData),
            LandmarkGallery = parse.GetValue(landmarkGallery),
            PerSource = parse.GetValue(perSource),
            CacheLandmarks = parse.GetValue(cacheLandmarks),
            TrainExpression = parse.GetValue(trainExpression),
            EvaluateExpression = parse.GetValue(evaluateExpression),
            CacheDirectory = parse.GetValue(cacheDir)!,
            LandmarksCsv = parse.GetValue(landmarksCsv),
            ImageNetOnnx = parse.GetValue(imagenetOnnx),
            ExpressionEpochs = parse.GetValue(networkOptions.Epochs) ?? defaults.ExpressionEpochs,
            ExpressionBatch = parse.GetValue(networkOptions.Batch) ?? defaults.ExpressionBatch,
            ExpressionSeed = parse.GetValue(networkOptions.Seed) ?? defaults.ExpressionSeed,
            ExpressionLearningRate = parse.GetValue(networkOptions.LearningRate) ?? defaults.ExpressionLearningRate,
            ExpressionWeightDecay = parse.GetValue(networkOptions.WeightDecay) ?? defaults.ExpressionWeightDecay,
            ExpressionDropout = parse.GetValue(networkOptions.Dropout) ?? defaults.ExpressionDropout,
            MaxSteps = parse.GetValue(maxSteps),
            MuxPerClass = parse.GetValue(muxPerClass),
            TaiwaneseRepeat = parse.GetValue(taiwaneseRepeat),
            BorderFill = parse.GetValue(borderFill),
            Weights = parse.GetValue(weights),
            FinetuneSteps = parse.GetValue(finetuneSteps),
            FinetuneTaiwanese = parse.GetValue(finetuneTaiwanese),
            FinetuneRefit = parse.GetValue(finetuneRefit),
            ResidualHidden = parse.GetValue(residualHidden),
            MirrorAverage = parse.GetValue(mirrorAverage),
            RefitL2 = parse.GetValue(refitL2),
            ReplayWeight = parse.GetValue(replayWeight),
            TaiwaneseReplayFactor = parse.GetValue(replayTaiwanese),
            RefitGrid = parse.GetValue(refitGrid),
            Export = parse.GetValue(export),
            QuantizeExpression = parse.GetValue(quantizeExpression),
            CalibrationCount = parse.GetValue(calibrationCount),
            Padding = padding
                .Where(p => parse.GetValue(p.Value) is not null)
                .ToDictionary(p => p.Key, p => parse.GetValue(p.Value)!.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>A crop as <c>face224</c>, <c>lower</c>, <c>whole</c> or <c>centreU,centreV,extent,size</c> (face-frame units, pixels).</summary>
    /// <param name="text">The text.</param>
    /// <param name="crop">The crop, when the text is one.</param>
    /// <returns>Whether the text is a crop.</returns>
    public static bool TryParseCrop(string text, out CropSpec crop)
    {
        crop = text switch
        {
            "face224" => CropSpec.Face224,
            "lower" => CropSpec.LowerFace,
            "whole" => CropSpec.WholeFace,
            _ => null!,
        };
        if (crop is not null)
        {
            return true;
        }

        var parts = text.Split(',');
        var ci = CultureInfo.InvariantCulture;
        if (parts.Length == 4 && float.TryParse(parts[0], ci, out float u) && float.TryParse(parts[1], ci, out float v)
            && float.TryParse(parts[2], ci, out float extent) && int.TryParse(parts[3], ci, out int size) && extent > 0 && size > 0)
        {
            crop = new CropSpec(u, v, extent, size);
            return true;
        }

        return false;
    }

    private static string BackboneName(AppearanceBackbone value) => value switch
    {
        AppearanceBackbone.KeypointResNet18 => "keypoint",
        AppearanceBackbone.Both => "both",
        _ => "imagenet",
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string CropText(CropSpec crop) => Invariant($"{crop.CenterU},{crop.CenterV},{crop.Extent},{crop.Size}");

    private static Option<string> PathOption(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    private static Option<T> Value<T>(string name, string description, T defaultValue, string helpName) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = helpName };

    private static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    // A bool that also takes a value (--geometry false); System.CommandLine shows no default for a bool, so say it.
    private static Option<bool> Switch(string name, string description, bool defaultValue) => new(name)
    {
        Description = $"{description} [default: {(defaultValue ? "true" : "false")}]",
        DefaultValueFactory = _ => defaultValue,
        HelpName = "true|false",
    };

    private static Option<CropSpec> CropOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "face224|lower|whole|U,V,EXTENT,SIZE",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (TryParseCrop(text, out var parsed))
            {
                return parsed;
            }

            result.AddError($"{name} takes face224, lower, whole or centreU,centreV,extent,size; not '{text}'.");
            return null;
        },
    };

    private static Option<(float Side, float Top, float Bottom)?> PaddingOption(string name, string source) => new(name)
    {
        Description = $"Expression network: padding of {source} faces into the keypoint framing, fractions of the side (left and right, top, bottom) [default: {source switch
        {
            "fer" => "0.45,0.55,0.5",
            "taiwanese" or "muxspace" => "0.35,0.4,0.35",
            _ => "0,0,0",
        }}]",
        HelpName = "SIDE,TOP,BOTTOM",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            var parts = text.Split(',');
            var values = new float[parts.Length];
            if (parts.Length == 3 && parts.Select((p, i) => float.TryParse(p, CultureInfo.InvariantCulture, out values[i]) && values[i] >= 0).All(ok => ok))
            {
                return (values[0], values[1], values[2]);
            }

            result.AddError($"{name} takes three fractions SIDE,TOP,BOTTOM (at least 0), not '{text}'.");
            return null;
        },
    };

    private static bool IsUserError(Exception e) => e is ArgumentException or FormatException or KeyNotFoundException
        or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ValidationException
        or KeypointCsvException or ImageDecodeException or ModelFormatException or TorchRuntimeException;

    /// <summary>The network settings, once plain (<c>--epochs</c>) and once for the pretraining (<c>--pt-epochs</c>).</summary>
    private sealed class NetworkOptionSet
    {
        public NetworkOptionSet(string prefix, string context, ExpressionNetworkOptions d, IReadOnlyDictionary<string, string> otherDefaults)
        {
            Option<T?> Make<T>(string key, string description, T value, string helpName)
                where T : struct
            {
                // A setting shared with the linear fit or --train-expression says whose default is which.
                string text = otherDefaults.TryGetValue(key, out string? other)
                    ? Invariant($"{char.ToUpperInvariant(description[0])}{description[1..]} [default: {value} for {context}, {other}]")
                    : Invariant($"{context}: {description} [default: {value}]");
                return new Option<T?>($"--{prefix}{key}") { Description = text, HelpName = helpName };
            }

            Crop = CropOption($"--{prefix}net-crop", $"{context}: the crop, centreU,centreV,extent,size (face-frame units, pixels) [default: {CropText(d.Crop)}]");
            Stages = Make("stages", "ResNet-18 stages, 3 or 4", d.Stages, "3|4");
            Stages.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int?>() is { } stages and not (3 or 4))
                {
                    result.AddError($"--{prefix}stages must be 3 or 4, not {stages}.");
                }
            });
            FirstTrained = Make("first-trained", "first trained stage (earlier ones frozen)", d.FirstTrainedStage, "N");
            Epochs = Make("epochs", "epochs", d.Epochs, "N");
            Batch = Make("batch", "batch size", d.BatchSize, "N");
            LearningRate = Make("lr", "learning rate", d.LearningRate, "X");
            WeightDecay = Make("wd", "weight decay", d.WeightDecay, "X");
            Dropout = Make("dropout", "dropout", d.Dropout, "X");
            ClassWeightPower = Make("class-weight-power", "class weights (inverse frequency) to this power", d.ClassWeightPower, "X");
            Rotation = Make("rotation", "random rotation, degrees", d.Rotation, "DEG");
            Scale = Make("scale", "random zoom in [1-X, 1+X]", d.Scale, "X");
            Translation = Make("translation", "random shift, fraction of the crop", d.Translation, "X");
            ColorJitter = Make("color-jitter", "brightness and contrast jitter", d.ColorJitter, "X");
            Seed = Make("seed", "seed of the initialisation, order and augmentation", d.Seed, "N");
            Negative = new ChoiceOption<NegativeHandling>(
                $"--{prefix}negative",
                prefix.Length == 0 ? "The negative class: left out (two classes) or learned (linear fit and --network)" : $"{context}: the negative class",
                d.Negative,
                []);
        }

        public Option<CropSpec> Crop { get; }

        public Option<int?> Stages { get; }

        public Option<int?> FirstTrained { get; }

        public Option<int?> Epochs { get; }

        public Option<int?> Batch { get; }

        public Option<double?> LearningRate { get; }

        public Option<double?> WeightDecay { get; }

        public Option<double?> Dropout { get; }

        public Option<double?> ClassWeightPower { get; }

        public Option<double?> Rotation { get; }

        public Option<double?> Scale { get; }

        public Option<double?> Translation { get; }

        public Option<double?> ColorJitter { get; }

        public Option<int?> Seed { get; }

        public ChoiceOption<NegativeHandling> Negative { get; }

        public IEnumerable<Option> All =>
        [
            Crop, Stages, FirstTrained, Epochs, Batch, LearningRate, WeightDecay, Dropout, ClassWeightPower,
            Rotation, Scale, Translation, ColorJitter, Seed, Negative,
        ];

        public ExpressionNetworkOptions Bind(ParseResult parse, ExpressionNetworkOptions o)
        {
            o.Crop = parse.GetValue(Crop) ?? o.Crop;
            o.Stages = parse.GetValue(Stages) ?? o.Stages;
            o.FirstTrainedStage = parse.GetValue(FirstTrained) ?? o.FirstTrainedStage;
            o.Epochs = parse.GetValue(Epochs) ?? o.Epochs;
            o.BatchSize = parse.GetValue(Batch) ?? o.BatchSize;
            o.LearningRate = parse.GetValue(LearningRate) ?? o.LearningRate;
            o.WeightDecay = parse.GetValue(WeightDecay) ?? o.WeightDecay;
            o.Dropout = parse.GetValue(Dropout) ?? o.Dropout;
            o.ClassWeightPower = parse.GetValue(ClassWeightPower) ?? o.ClassWeightPower;
            o.Rotation = parse.GetValue(Rotation) ?? o.Rotation;
            o.Scale = parse.GetValue(Scale) ?? o.Scale;
            o.Translation = parse.GetValue(Translation) ?? o.Translation;
            o.ColorJitter = parse.GetValue(ColorJitter) ?? o.ColorJitter;
            o.Seed = parse.GetValue(Seed) ?? o.Seed;
            o.Negative = Negative.Get(parse);
            return o;
        }
    }
}
