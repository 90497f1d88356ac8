using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Models.Import;
using FacialKeypoints.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

// Sample trainer on System.CommandLine: the common TrainerOptions have typed switches (defaults from TrainerOptions,
// shown by --help); any other property can be set as --Training:Name=value. A run folder that already holds a run is
// resumed. --data may be given several times: DIR or DIR:WEIGHT, each a keypoint-CSV folder (training/,
// training_frames_keypoints.csv, ...) or a folder of images with .pts files, told apart by content.
var defaults = new TrainerOptions();
var switches = new List<(Option Option, string Key)>();
Option<T> Switch<T>(string name, string key, string description, T defaultValue)
{
    // System.CommandLine shows no default for a bool (a bare --flag means true); say it, as these take a value too.
    string shown = defaultValue is bool flag ? $" [default: {(flag ? "true" : "false")}]" : string.Empty;
    var option = new Option<T>(name) { Description = description + shown, DefaultValueFactory = _ => defaultValue };
    switches.Add((option, key));
    return option;
}

var dataOption = new Option<string[]>("--data")
{
    Description = "DIR or DIR:WEIGHT, a keypoint-CSV folder or a folder of images with iBUG .pts files; repeat for several sources (WEIGHT: its share of every epoch, on all or none) [default: $FKP_DATA/facial-keypoints or ../shared/data/facial-keypoints]",
    HelpName = "DIR[:WEIGHT]",
    AllowMultipleArgumentsPerToken = false,
};
var outOption = new Option<string>("--out", "-o") { Description = "The run folder (resumed when it holds a run)", HelpName = "DIR", DefaultValueFactory = _ => "runs/latest" };
var layoutOption = new Option<ResNet18Layout>("--layout") { Description = "Backbone blocks per stage: Standard [2,2,2,2] or ExtraFinalBlock [2,2,2,3]", DefaultValueFactory = _ => ResNet18Layout.Standard };
var headOption = new Option<string>("--head") { Description = "reference (pooled features) or spatial (per-cell features)", DefaultValueFactory = _ => ReferenceHead.HeadKind };
headOption.AcceptOnlyFromAmong(ReferenceHead.HeadKind, SpatialHead.HeadKind);
var initOption = new Option<FileInfo>("--init") { Description = "Start from this checkpoint instead of ImageNet weights (fine-tuning)", HelpName = "CHECKPOINT" };
initOption.AcceptExistingOnly();
var limitOption = new Option<int>("--limit") { Description = "Use only the first N training and max(8, N/8) validation faces of each source (0: all)" };
var quietOption = new Option<bool>("--quiet") { Description = "No progress bar; the log lines and the results are still printed" };
var root = new RootCommand("Trains a FacialKeypoints.NET landmark network (ResNet-18) and scores its best epoch on the test split.")
{
    dataOption, outOption, layoutOption, headOption, initOption,
    Switch("--epochs", "Training:Epochs", "Epochs", defaults.Epochs),
    Switch("--batch-size", "Training:BatchSize", "Images per step", defaults.BatchSize),
    Switch("--lr", "Training:LearningRate", "AdamW peak learning rate", defaults.LearningRate),
    Switch("--input-size", "Training:InputSize", "Network input side, a multiple of 32", defaults.InputSize),
    Switch("--loss", "Training:Loss", "Loss between predicted and true keypoints", defaults.Loss),
    Switch("--warmup", "Training:WarmupEpochs", "Linear warm-up epochs before the cosine decay", defaults.WarmupEpochs),
    Switch("--rotation", "Training:MaxRotationDegrees", "Random rotation, degrees", defaults.MaxRotationDegrees),
    Switch("--scale", "Training:MaxScaleChange", "Random zoom in [1-F, 1+F]", defaults.MaxScaleChange),
    Switch("--translation", "Training:MaxTranslation", "Random shift, fraction of the side", defaults.MaxTranslation),
    Switch("--jitter", "Training:ColorJitter", "Brightness, contrast and saturation jitter", defaults.ColorJitter),
    Switch("--blur", "Training:BlurProbability", "Probability of a Gaussian blur", defaults.BlurProbability),
    Switch("--low-res", "Training:LowResolutionProbability", "Probability of a down-and-up resize", defaults.LowResolutionProbability),
    Switch("--degrade", "Training:DegradationScope", "Where --blur and --low-res apply: AllSources, or PhotoSources (the .pts folders; video frames are soft already)", defaults.DegradationScope),
    Switch("--flip-tta", "Training:FlipTestTimeAugmentation", "Average with the mirrored image at validation and test", defaults.FlipTestTimeAugmentation),
    Switch("--pretrained", "Training:Pretrained", "Start from ImageNet weights", defaults.Pretrained),
    Switch("--split-by-identity", "Training:SplitByIdentity", "Hold out whole people for validation", defaults.SplitByIdentity),
    Switch("--seed", "Training:Seed", "Seed of the split, order, augmentation, dropout and a new network's initial weights", defaults.Seed),
    Switch("--on-bad-file", "Training:BadFiles", "An image that is missing or cannot be decoded: Fail stops the run naming it (exit 2); Skip leaves it out, names it once and counts it at the end", defaults.BadFiles),
    Switch("--workers", "Training:Workers", "Decoding and augmentation threads", defaults.Workers),
    Switch("--threads", "Training:TorchThreads", "libtorch threads (0: its default)", defaults.TorchThreads),
    Switch("--max-steps", "Training:MaxSteps", "Stop after N steps in total (0: no limit)", defaults.MaxSteps),
    Switch("--device", "Training:Device", "cpu, cuda, cuda:N or auto (CUDA needs a CUDA build of libtorch: docs/training-guide.md#gpu)", defaults.Device),
    limitOption, quietOption,
};
root.TreatUnmatchedTokensAsErrors = false; // --Training:Name=value and --Data:Name=value go to configuration

var parse = root.Parse(args);
var passthrough = parse.UnmatchedTokens.ToArray();
var stray = passthrough.Where(t => !t.StartsWith("--Training:", StringComparison.Ordinal) && !t.StartsWith("--Data:", StringComparison.Ordinal)).ToArray();
if (parse.Errors.Count > 0 || stray.Length > 0 || parse.Action is not null)
{
    if (parse.Action is System.CommandLine.Invocation.ParseErrorAction errorAction)
    {
        errorAction.ShowHelp = false;
    }

    foreach (string token in stray.Where(t => t.StartsWith('-')).DefaultIfEmpty(stray.FirstOrDefault()).OfType<string>())
    {
        if (!token.StartsWith('-'))
        {
            Console.Error.WriteLine($"Unexpected argument '{token}': every setting is an option (--data DIR, --out DIR, ...).");
            continue;
        }

        string? near = OptionSuggestions.Nearest(token, root.Options);
        Console.Error.WriteLine(near is null ? $"Unknown option '{token}' (TrainerOptions properties: --Training:Name=value)." : $"Unknown option '{token}'. Did you mean '{near}'?");
    }

    int code = parse.Invoke(); // help, version, or the parse errors
    return parse.Errors.Count > 0 || stray.Length > 0 ? 2 : code;
}

var dataSpecs = (parse.GetValue(dataOption) ?? []).ToList();
var settings = new Dictionary<string, string?>
{
    ["Data:Root"] = Environment.GetEnvironmentVariable("FKP_DATA") is { Length: > 0 } dataRoot ? Path.Combine(dataRoot, "facial-keypoints") : "../shared/data/facial-keypoints",
};
foreach (var (option, key) in switches.Where(s => parse.GetResult(s.Option) is { Implicit: false }))
{
    settings[key] = Convert.ToString(parse.GetResult(option)!.GetValueOrDefault<object>(), CultureInfo.InvariantCulture);
}

var configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(settings)
    .AddCommandLine(passthrough)
    .Build();

TrainingProgressBar? liveBar = null; // the epoch log lines pause while the bars are drawn (they print their own)
var services = new ServiceCollection()
    .AddLogging(logging => logging.AddFilter((_, level) => level >= LogLevel.Warning || !(liveBar?.IsLive ?? false)).AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss ";
    }))
    .AddFacialKeypointsData(configuration.GetSection("Data"))
    .AddFacialKeypointsTraining(configuration.GetSection("Training"));
using var provider = services.BuildServiceProvider();
try
{
    provider.GetRequiredService<IStartupValidator>().Validate();
}
catch (OptionsValidationException e)
{
    Console.Error.WriteLine($"Invalid options: {string.Join("; ", e.Failures)}");
    return 2;
}

TorchRuntime.EnsureInitialized();
var log = provider.GetRequiredService<ILoggerFactory>().CreateLogger("Trainer");
var trainer = provider.GetRequiredService<KeypointTrainer>();
var options = trainer.Options;
if (dataSpecs.Count == 0)
{
    dataSpecs.Add(provider.GetRequiredService<IOptions<KeypointDataOptions>>().Value.Root);
}

var sources = new List<DataSource>();
foreach (string spec in dataSpecs)
{
    if (DataSource.Parse(spec, out var source) is { } problem)
    {
        Console.Error.WriteLine($"Invalid options: --data {spec}: {problem}");
        return 2;
    }

    sources.Add(source!);
}
string runDirectory = parse.GetValue(outOption)!;
var layout = parse.GetValue(layoutOption);
string headKind = parse.GetValue(headOption)!;

Directory.CreateDirectory(runDirectory);

int limit = parse.GetValue(limitOption);
var trainParts = new List<FaceSource>();
var validationParts = new List<FaceSource>();
bool skipBadFiles = options.BadFiles == BadFilePolicy.Skip;
int leftOutAtOpen = 0;
foreach (var source in sources)
{
    // Each source is split on its own: keypoint-CSV rows by identity (or at random), .pts faces one by one (each
    // file is its own identity).
    try
    {
        source.Open(options.ValidationFraction, options.SplitByIdentity, options.Seed, skipBadFiles);
    }
    catch (KeypointCsvException e)
    {
        // --on-bad-file Fail: a bad row or a row naming a missing image, on one line ("file:line: ...").
        Console.Error.WriteLine(e.Message);
        return 2;
    }

    leftOutAtOpen += source.Problems.Count;
    var split = source.Split!;
    IFaceDataset sourceTrain = new FaceSubset(source.All!, limit > 0 ? split.Train.Take(limit) : split.Train);
    IFaceDataset sourceValidation = new FaceSubset(source.All!, limit > 0 ? split.Validation.Take(Math.Max(8, limit / 8)) : split.Validation);
    var own = source.IsPts && options.DegradationScope == DegradationScope.PhotoSources ? trainer.Degradation() : null;
    trainParts.Add(new FaceSource(sourceTrain, source.Weight, source.Folder, own));
    validationParts.Add(new FaceSource(sourceValidation, null, source.Folder));
    log.LogInformation("{Kind} source {Folder}: {Train} training, {Validation} validation faces{Weight}{Skipped}", source.IsPts ? ".pts" : "CSV", source.Folder, sourceTrain.Count, sourceValidation.Count, source.Weight is { } w ? $", weight {w}" : string.Empty, source.Problems.Count > 0 ? $", {source.Problems.Count} files left out" : string.Empty);
    foreach (var problem in source.Problems)
    {
        log.LogWarning("Left out: {Problem}", problem);
    }
}

IFaceDataset train, validation;
try
{
    bool single = trainParts.Count == 1 && trainParts[0].Weight is null && trainParts[0].Augmentation is null;
    train = single ? trainParts[0].Dataset : new MixedFaceDataset(trainParts);
    validation = single ? validationParts[0].Dataset : new MixedFaceDataset(validationParts);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Invalid options: {e.Message}");
    return 2;
}

if (train is MixedFaceDataset mix)
{
    log.LogInformation("Epoch shares: {Shares}", string.Join(", ", mix.Sources.Select((s, i) => $"{s.Name} {mix.Shares[i]:P0} ({mix.DrawsPerSource(mix.Count)[i]} of {mix.Count})")));
}

log.LogInformation("Training on {Train} images, validating on {Validation} ({Split} split), {Size}x{Size} input, {Epochs} epochs", train.Count, validation.Count, options.SplitByIdentity ? "identity" : "random", options.InputSize, options.InputSize, options.Epochs);

File.WriteAllText(Path.Combine(runDirectory, "options.json"), JsonSerializer.Serialize(new { options, Layout = layout.ToString(), Head = headKind, Data = dataSpecs, Train = train.Count, Validation = validation.Count }, new JsonSerializerOptions { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } }));
trainer.SeedInitialWeights(); // a random backbone and a new head start from weights that depend on --seed only
var backbone = options.Pretrained ? ImageNetResNet18.CreateBackbone(layout) : new ResNet18Backbone(layout);
var normalization = options.Pretrained ? ImageNetResNet18.Normalization : NormalizationSpec.ImageNet;
KeypointHead head = headKind == SpatialHead.HeadKind
    ? new SpatialHead(backbone.OutFeatures, train.Scheme.Count, options.InputSize / 32)
    : new ReferenceHead(backbone.OutFeatures, train.Scheme.Count);
using var model = new KeypointNetwork(backbone, head);
if (parse.GetValue(initOption)?.FullName is { } init)
{
    // Fine-tuning: start from a trained checkpoint instead of ImageNet (a resumed run still replaces these weights).
    var initMetadata = KeypointCheckpoint.LoadInto(init, model);
    normalization = initMetadata.Normalization;
    log.LogInformation("Starting from {Init} ({Layout}, {Size} px)", init, initMetadata.Layout, initMetadata.InputWidth);
}

var pixelNormalization = normalization;

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Console.Error.WriteLine("\nStopping: the last finished epoch is saved; run the same command again to resume.");
    stop.Cancel();
};

using var bar = new TrainingProgressBar(parse.GetValue(quietOption));
liveBar = bar;
TrainingResult result;
try
{
    result = trainer.Train(model, train, validation, pixelNormalization, runDirectory, bar, stop.Token);
}
catch (OperationCanceledException)
{
    return 130;
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (Exception e) when (e is FacialKeypoints.Core.ImageDecodeException or InvalidDataException or FacialKeypoints.Models.ModelFormatException)
{
    // An image that cannot be decoded, or a run folder whose checkpoints are all damaged: one line, no stack trace.
    bar.Dispose();
    Console.Error.WriteLine(e.Message);
    return 2;
}

bar.Dispose();
int testLeftOut = 0;
int ReportSkipped()
{
    // The summary of every bad file left out (each was named on its own line when it was met); under
    // --on-bad-file Skip a run that left files out exits 1, as fkp predict and evaluate do.
    int total = leftOutAtOpen + result.SkippedImages.Count + testLeftOut;
    if (total > 0)
    {
        log.LogWarning("Skipped {Count} bad file(s): {Open} left out when the training data was opened, {Images} image(s) unreadable during training, {Test} in the test split", total, leftOutAtOpen, result.SkippedImages.Count, testLeftOut);
    }

    return total > 0 && skipBadFiles ? 1 : 0;
}

var csvSource = sources.FirstOrDefault(s => !s.IsPts);
if (csvSource is null)
{
    log.LogInformation("Best epoch {Epoch}; no keypoint-CSV source, so no test split to score (fkp evaluate --data scores a .pts folder)", result.BestEpoch);
    return ReportSkipped();
}

log.LogInformation("Best epoch {Epoch}; evaluating it on the test split of {Folder}", result.BestEpoch, csvSource.Folder);
KeypointCheckpoint.LoadInto(result.BestModelPath, model);
var all = (KeypointDataset)csvSource.All!;
KeypointDataset test;
try
{
    test = KeypointDataset.OpenSplit(csvSource.Folder, "test", new KeypointDatasetOptions { BadRows = skipBadFiles ? BadRowPolicy.SkipAndReport : BadRowPolicy.FailFast });
}
catch (KeypointCsvException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

foreach (var problem in test.Problems)
{
    log.LogWarning("Left out of the test split: {Problem}", problem);
}

testLeftOut = test.Problems.Count;
var testSkipped = new HashSet<string>(StringComparer.Ordinal);
void TestImageSkipped(ImageDecodeException e)
{
    if (testSkipped.Add(e.FilePath ?? e.Message))
    {
        testLeftOut++;
        log.LogWarning("Left out of the test split: {Problem}", e.Message);
    }
}

EvaluationResult evaluation;
try
{
    evaluation = KeypointEvaluator.Evaluate(model, test, options.InputSize, pixelNormalization, options.FlipTestTimeAugmentation, trainer.ComputeLoss, badFiles: options.BadFiles, onImageSkipped: TestImageSkipped);
}
catch (FacialKeypoints.Core.ImageDecodeException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

File.WriteAllText(Path.Combine(runDirectory, "test-metrics.json"), JsonSerializer.Serialize(evaluation.Summary.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
using (var dump = KeypointCsvWriter.Create(Path.Combine(runDirectory, "test-predictions.csv"), test.Scheme))
{
    foreach (var p in evaluation.Predictions)
    {
        dump.WriteRow(p.Info.Name, p.Predicted);
    }
}

if (options.SplitByIdentity)
{
    // The canonical test split shares every person with training; the test rows of the people held out here are
    // faces of people the network has never seen.
    var heldOut = csvSource.Split!.Validation.Select(i => all.GetInfo(i).Identity).ToHashSet(StringComparer.Ordinal);
    var unseen = new FaceSubset(test, Enumerable.Range(0, test.Count).Where(i => heldOut.Contains(SampleInfo.IdentityOf(test.Records[i].Name))));
    var unseenEvaluation = KeypointEvaluator.Evaluate(model, unseen, options.InputSize, pixelNormalization, options.FlipTestTimeAugmentation, trainer.ComputeLoss, badFiles: options.BadFiles, onImageSkipped: TestImageSkipped);
    File.WriteAllText(Path.Combine(runDirectory, "test-unseen-identities-metrics.json"), JsonSerializer.Serialize(unseenEvaluation.Summary.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
    var u = unseenEvaluation.Summary;
    Console.WriteLine($"Test, {heldOut.Count} people not seen in training ({u.Images} images): MAE {u.Mae224:F2} px, RMSE {u.Rmse224:F2} px, MPE {u.Mpe224:F2} px, NME {u.Nme:F4}, failures >0.08 {u.FailureRate008:P1}, >0.10 {u.FailureRate010:P1}");
}

var s = evaluation.Summary;
Console.WriteLine($"Test ({s.Images} images): MAE {s.Mae224:F2} px, RMSE {s.Rmse224:F2} px, MPE {s.Mpe224:F2} px, NME {s.Nme:F4} (original pixels {s.NmeOriginal:F4}), failures >0.08 {s.FailureRate008:P1}, >0.10 {s.FailureRate010:P1}");
return ReportSkipped();

/// <summary>One <c>--data</c> source: a keypoint-CSV folder or a .pts folder, with an optional weight.</summary>
internal sealed class DataSource
{
    private DataSource(string folder, double? weight, bool isPts)
    {
        Folder = folder;
        Weight = weight;
        IsPts = isPts;
    }

    public string Folder { get; }

    public double? Weight { get; }

    public bool IsPts { get; }

    public IFaceDataset? All { get; private set; }

    public SplitIndices? Split { get; private set; }

    public IReadOnlyList<CsvProblem> Problems { get; private set; } = [];

    /// <summary>Parses DIR or DIR:WEIGHT and tells the folder's kind by its content; returns a problem or null.</summary>
    public static string? Parse(string spec, out DataSource? source)
    {
        source = null;
        string folder = spec;
        double? weight = null;
        int colon = spec.LastIndexOf(':');
        if (colon > 0 && double.TryParse(spec[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
        {
            if (!(double.IsFinite(w) && w > 0))
            {
                return $"the weight must be positive, not {w}";
            }

            folder = spec[..colon];
            weight = w;
        }

        if (File.Exists(Path.Combine(folder, "training_frames_keypoints.csv")))
        {
            source = new DataSource(folder, weight, isPts: false);
        }
        else if (PtsDataset.IsPtsFolder(folder))
        {
            source = new DataSource(folder, weight, isPts: true);
        }
        else
        {
            return Directory.Exists(folder)
                ? "the folder holds neither training_frames_keypoints.csv nor .pts files"
                : "the folder does not exist";
        }

        return null;
    }

    /// <summary>
    /// Opens the training faces and splits off validation. A .pts folder always leaves out and reports its bad files; a
    /// keypoint CSV does so with <paramref name="skipBadRows"/> (a bad row, a missing image) and otherwise throws
    /// <see cref="FacialKeypoints.Core.KeypointCsvException"/> naming the file and line.
    /// </summary>
    public void Open(double validationFraction, bool byIdentity, int seed, bool skipBadRows)
    {
        if (IsPts)
        {
            var faces = PtsDataset.Open(Folder, new PtsDatasetOptions { BadRows = BadRowPolicy.SkipAndReport });
            Problems = faces.Problems;
            All = faces;
        }
        else
        {
            var rows = KeypointDataset.OpenSplit(Folder, "training", new KeypointDatasetOptions { BadRows = skipBadRows ? BadRowPolicy.SkipAndReport : BadRowPolicy.FailFast });
            Problems = rows.Problems;
            All = rows;
        }

        Split = byIdentity
            ? DatasetSplits.ByIdentity(DatasetSplits.Identities(All), validationFraction, seed)
            : DatasetSplits.Random(All.Count, validationFraction, seed);
    }
}
