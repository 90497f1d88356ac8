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

// Sample trainer. Every TrainerOptions property can be set as --Training:Name=value; the common ones have
// short switches below. A run folder that already holds a run is resumed. --data may be given several times:
// DIR or DIR:WEIGHT, each a keypoint-CSV folder (training/, training_frames_keypoints.csv, ...) or a folder of
// images with .pts files, told apart by content.
var dataSpecs = new List<string>();
var rest = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--data" && i + 1 < args.Length)
    {
        dataSpecs.Add(args[++i]);
    }
    else if (args[i].StartsWith("--data=", StringComparison.Ordinal))
    {
        dataSpecs.Add(args[i]["--data=".Length..]);
    }
    else
    {
        rest.Add(args[i]);
    }
}

args = [.. rest];
var switches = new Dictionary<string, string>
{
    ["--out"] = "Out",
    ["--layout"] = "Layout",
    ["--head"] = "Head",
    ["--epochs"] = "Training:Epochs",
    ["--batch-size"] = "Training:BatchSize",
    ["--lr"] = "Training:LearningRate",
    ["--input-size"] = "Training:InputSize",
    ["--loss"] = "Training:Loss",
    ["--seed"] = "Training:Seed",
    ["--workers"] = "Training:Workers",
    ["--threads"] = "Training:TorchThreads",
    ["--max-steps"] = "Training:MaxSteps",
    ["--rotation"] = "Training:MaxRotationDegrees",
    ["--scale"] = "Training:MaxScaleChange",
    ["--translation"] = "Training:MaxTranslation",
    ["--jitter"] = "Training:ColorJitter",
    ["--blur"] = "Training:BlurProbability",
    ["--low-res"] = "Training:LowResolutionProbability",
    ["--warmup"] = "Training:WarmupEpochs",
    ["--flip-tta"] = "Training:FlipTestTimeAugmentation",
    ["--pretrained"] = "Training:Pretrained",
    ["--split-by-identity"] = "Training:SplitByIdentity",
    ["--limit"] = "Limit",
    ["--init"] = "Init",
};
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("Usage: FacialKeypoints.Trainer --data DIR[:WEIGHT] [--data DIR[:WEIGHT]...] --out RUN_DIR [--epochs N] [--input-size 160] [--loss L1|SmoothL1]");
    Console.WriteLine("       [--rotation DEG] [--scale F] [--translation F] [--jitter F] [--blur P] [--low-res P] [--warmup N] [--flip-tta true]");
    Console.WriteLine("       --data: a keypoint-CSV folder or a folder of images with iBUG .pts files; WEIGHT: its share of every epoch (on all or none).");
    Console.WriteLine("       [--layout Standard|ExtraFinalBlock] [--head reference|spatial] [--init CHECKPOINT] [--pretrained false] [--split-by-identity true] [--limit N] [--max-steps N]");
    Console.WriteLine("       Any TrainerOptions property: --Training:Name=value. An existing run folder is resumed.");
    return 0;
}

var configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Out"] = "runs/latest",
        ["Layout"] = "Standard",
        ["Head"] = ReferenceHead.HeadKind,
        ["Data:Root"] = Environment.GetEnvironmentVariable("FKP_DATA") is { Length: > 0 } root ? Path.Combine(root, "facial-keypoints") : "../shared/data/facial-keypoints",
    })
    .AddCommandLine(args, switches)
    .Build();

var services = new ServiceCollection()
    .AddLogging(logging => logging.AddSimpleConsole(o =>
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
string runDirectory = configuration["Out"]!;
if (!Enum.TryParse<ResNet18Layout>(configuration["Layout"], ignoreCase: true, out var layout) || !Enum.IsDefined(layout))
{
    Console.Error.WriteLine($"Invalid options: --layout must be {string.Join(" or ", Enum.GetNames<ResNet18Layout>())}, not '{configuration["Layout"]}'.");
    return 2;
}

string headKind = configuration["Head"]!;
if (headKind is not (ReferenceHead.HeadKind or SpatialHead.HeadKind))
{
    Console.Error.WriteLine($"Invalid options: --head must be {ReferenceHead.HeadKind} or {SpatialHead.HeadKind}, not '{headKind}'.");
    return 2;
}

Directory.CreateDirectory(runDirectory);

int limit = configuration.GetValue("Limit", 0);
var trainParts = new List<FaceSource>();
var validationParts = new List<FaceSource>();
foreach (var source in sources)
{
    // Each source is split on its own: keypoint-CSV rows by identity (or at random), .pts faces one by one (each
    // file is its own identity).
    source.Open(options.ValidationFraction, options.SplitByIdentity, options.Seed);
    var split = source.Split!;
    IFaceDataset sourceTrain = new FaceSubset(source.All!, limit > 0 ? split.Train.Take(limit) : split.Train);
    IFaceDataset sourceValidation = new FaceSubset(source.All!, limit > 0 ? split.Validation.Take(Math.Max(8, limit / 8)) : split.Validation);
    trainParts.Add(new FaceSource(sourceTrain, source.Weight, source.Folder));
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
    bool single = trainParts.Count == 1 && trainParts[0].Weight is null;
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
var backbone = options.Pretrained ? ImageNetResNet18.CreateBackbone(layout) : new ResNet18Backbone(layout);
var normalization = options.Pretrained ? ImageNetResNet18.Normalization : NormalizationSpec.ImageNet;
KeypointHead head = headKind == SpatialHead.HeadKind
    ? new SpatialHead(backbone.OutFeatures, train.Scheme.Count, options.InputSize / 32)
    : new ReferenceHead(backbone.OutFeatures, train.Scheme.Count);
using var model = new KeypointNetwork(backbone, head);
if (configuration["Init"] is { Length: > 0 } init)
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

var bar = new ConsoleProgress();
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

bar.Clear();
var csvSource = sources.FirstOrDefault(s => !s.IsPts);
if (csvSource is null)
{
    log.LogInformation("Best epoch {Epoch}; no keypoint-CSV source, so no test split to score (fkp evaluate --data scores a .pts folder)", result.BestEpoch);
    return 0;
}

log.LogInformation("Best epoch {Epoch}; evaluating it on the test split of {Folder}", result.BestEpoch, csvSource.Folder);
KeypointCheckpoint.LoadInto(result.BestModelPath, model);
var all = (KeypointDataset)csvSource.All!;
var test = KeypointDataset.OpenSplit(csvSource.Folder, "test");
var evaluation = KeypointEvaluator.Evaluate(model, test, options.InputSize, pixelNormalization, options.FlipTestTimeAugmentation, trainer.ComputeLoss);
File.WriteAllText(Path.Combine(runDirectory, "test-metrics.json"), JsonSerializer.Serialize(evaluation.Summary.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
using (var dump = new StreamWriter(Path.Combine(runDirectory, "test-predictions.csv")))
{
    dump.WriteLine("name," + string.Join(",", Enumerable.Range(0, test.Scheme.Count).Select(i => $"x{i},y{i}")));
    foreach (var p in evaluation.Predictions)
    {
        dump.WriteLine(p.Info.Name + "," + string.Join(",", p.Predicted.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))));
    }
}

if (options.SplitByIdentity)
{
    // The canonical test split shares every person with training; the test rows of the people held out here are
    // faces of people the network has never seen.
    var heldOut = csvSource.Split!.Validation.Select(i => all.GetInfo(i).Identity).ToHashSet(StringComparer.Ordinal);
    var unseen = new FaceSubset(test, Enumerable.Range(0, test.Count).Where(i => heldOut.Contains(SampleInfo.IdentityOf(test.Records[i].Name))));
    var unseenEvaluation = KeypointEvaluator.Evaluate(model, unseen, options.InputSize, pixelNormalization, options.FlipTestTimeAugmentation, trainer.ComputeLoss);
    File.WriteAllText(Path.Combine(runDirectory, "test-unseen-identities-metrics.json"), JsonSerializer.Serialize(unseenEvaluation.Summary.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
    var u = unseenEvaluation.Summary;
    Console.WriteLine($"Test, {heldOut.Count} people not seen in training ({u.Images} images): MAE {u.Mae224:F2} px, RMSE {u.Rmse224:F2} px, MPE {u.Mpe224:F2} px, NME {u.Nme:F4}, failures >0.08 {u.FailureRate008:P1}, >0.10 {u.FailureRate010:P1}");
}

var s = evaluation.Summary;
Console.WriteLine($"Test ({s.Images} images): MAE {s.Mae224:F2} px, RMSE {s.Rmse224:F2} px, MPE {s.Mpe224:F2} px, NME {s.Nme:F4} (original pixels {s.NmeOriginal:F4}), failures >0.08 {s.FailureRate008:P1}, >0.10 {s.FailureRate010:P1}");
return 0;

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

    /// <summary>Opens the training faces and splits off validation.</summary>
    public void Open(double validationFraction, bool byIdentity, int seed)
    {
        if (IsPts)
        {
            var faces = PtsDataset.Open(Folder, new PtsDatasetOptions { BadRows = BadRowPolicy.SkipAndReport });
            Problems = faces.Problems;
            All = faces;
        }
        else
        {
            All = KeypointDataset.OpenSplit(Folder, "training");
        }

        Split = byIdentity
            ? DatasetSplits.ByIdentity(DatasetSplits.Identities(All), validationFraction, seed)
            : DatasetSplits.Random(All.Count, validationFraction, seed);
    }
}

/// <summary>A one-line console progress bar.</summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    private DateTime last = DateTime.MinValue;

    public void Report(TrainingProgress value)
    {
        if (value.Finished is not null)
        {
            Clear();
            return;
        }

        if ((DateTime.UtcNow - last).TotalMilliseconds < 500 && value.Step != value.Steps)
        {
            return;
        }

        last = DateTime.UtcNow;
        int filled = value.Steps == 0 ? 0 : 30 * value.Step / value.Steps;
        string text = $"epoch {value.Epoch}/{value.Epochs} [{new string('#', filled)}{new string('.', 30 - filled)}] {value.Step}/{value.Steps} loss {value.Loss:F5}";
        if (Console.IsOutputRedirected)
        {
            return;
        }

        Console.Write("\r" + text);
    }

    public void Clear()
    {
        if (!Console.IsOutputRedirected)
        {
            Console.Write("\r" + new string(' ', 90) + "\r");
        }
    }
}
