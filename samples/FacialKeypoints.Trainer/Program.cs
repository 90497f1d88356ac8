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
// short switches below. A run folder that already holds a run is resumed.
var switches = new Dictionary<string, string>
{
    ["--data"] = "Data:Root",
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
    ["--warmup"] = "Training:WarmupEpochs",
    ["--flip-tta"] = "Training:FlipTestTimeAugmentation",
    ["--pretrained"] = "Training:Pretrained",
    ["--split-by-identity"] = "Training:SplitByIdentity",
    ["--limit"] = "Limit",
    ["--init"] = "Init",
};
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("Usage: FacialKeypoints.Trainer --data DIR --out RUN_DIR [--epochs N] [--input-size 160] [--loss L1|SmoothL1]");
    Console.WriteLine("       [--rotation DEG] [--scale F] [--translation F] [--jitter F] [--warmup N] [--flip-tta true]");
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
var data = provider.GetRequiredService<KeypointDataSource>();
string dataRoot = provider.GetRequiredService<IOptions<KeypointDataOptions>>().Value.Root;
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

var all = data.Open("training");
var split = options.SplitByIdentity
    ? DatasetSplits.ByIdentity(DatasetSplits.Identities(all), options.ValidationFraction, options.Seed)
    : DatasetSplits.Random(all.Count, options.ValidationFraction, options.Seed);
int limit = configuration.GetValue("Limit", 0);
IFaceDataset train = new FaceSubset(all, limit > 0 ? split.Train.Take(limit) : split.Train);
IFaceDataset validation = new FaceSubset(all, limit > 0 ? split.Validation.Take(Math.Max(8, limit / 8)) : split.Validation);
log.LogInformation("Training on {Train} images, validating on {Validation} ({Split} split), {Size}x{Size} input, {Epochs} epochs", train.Count, validation.Count, options.SplitByIdentity ? "identity" : "random", options.InputSize, options.InputSize, options.Epochs);

File.WriteAllText(Path.Combine(runDirectory, "options.json"), JsonSerializer.Serialize(new { options, Layout = layout.ToString(), Head = headKind, Data = dataRoot, Train = train.Count, Validation = validation.Count }, new JsonSerializerOptions { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } }));
var backbone = options.Pretrained ? ImageNetResNet18.CreateBackbone(layout) : new ResNet18Backbone(layout);
var normalization = options.Pretrained ? ImageNetResNet18.Normalization : NormalizationSpec.ImageNet;
KeypointHead head = headKind == SpatialHead.HeadKind
    ? new SpatialHead(backbone.OutFeatures, all.Scheme.Count, options.InputSize / 32)
    : new ReferenceHead(backbone.OutFeatures, all.Scheme.Count);
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
log.LogInformation("Best epoch {Epoch}; evaluating it on the test split", result.BestEpoch);
KeypointCheckpoint.LoadInto(result.BestModelPath, model);
var test = data.Open("test");
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
    var heldOut = split.Validation.Select(i => all.GetInfo(i).Identity).ToHashSet(StringComparer.Ordinal);
    var unseen = new FaceSubset(test, Enumerable.Range(0, test.Count).Where(i => heldOut.Contains(SampleInfo.IdentityOf(test.Records[i].Name))));
    var unseenEvaluation = KeypointEvaluator.Evaluate(model, unseen, options.InputSize, pixelNormalization, options.FlipTestTimeAugmentation, trainer.ComputeLoss);
    File.WriteAllText(Path.Combine(runDirectory, "test-unseen-identities-metrics.json"), JsonSerializer.Serialize(unseenEvaluation.Summary.ToDictionary(), new JsonSerializerOptions { WriteIndented = true }));
    var u = unseenEvaluation.Summary;
    Console.WriteLine($"Test, {heldOut.Count} people not seen in training ({u.Images} images): MAE {u.Mae224:F2} px, RMSE {u.Rmse224:F2} px, MPE {u.Mpe224:F2} px, NME {u.Nme:F4}, failures >0.08 {u.FailureRate008:P1}, >0.10 {u.FailureRate010:P1}");
}

var s = evaluation.Summary;
Console.WriteLine($"Test ({s.Images} images): MAE {s.Mae224:F2} px, RMSE {s.Rmse224:F2} px, MPE {s.Mpe224:F2} px, NME {s.Nme:F4} (original pixels {s.NmeOriginal:F4}), failures >0.08 {s.FailureRate008:P1}, >0.10 {s.FailureRate010:P1}");
return 0;

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
