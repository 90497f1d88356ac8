using System.Diagnostics;
using System.Text.Json;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Training;

/// <summary>Where a run is, for progress bars.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Epochs in the run.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="Steps">Steps in the epoch.</param>
/// <param name="Loss">Running mean training loss of the epoch.</param>
/// <param name="Finished">The epoch's metrics, on the report that ends an epoch.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, EpochMetrics? Finished = null);

/// <summary>The outcome of a run.</summary>
/// <param name="RunDirectory">Where everything was written.</param>
/// <param name="History">Metrics of every epoch, resumed ones included.</param>
/// <param name="BestEpoch">1-based epoch of the lowest validation loss.</param>
/// <param name="BestModelPath">The best network's file.</param>
public sealed record TrainingResult(string RunDirectory, IReadOnlyList<EpochMetrics> History, int BestEpoch, string BestModelPath)
{
    /// <summary>
    /// The images left out of this call's training and validation batches under
    /// <see cref="FacialKeypoints.Data.BadFilePolicy.Skip"/> (file paths, each once, in the order met).
    /// </summary>
    public IReadOnlyList<string> SkippedImages { get; init; } = [];
}

/// <summary>
/// Trains a <see cref="KeypointNetwork"/>: AdamW, warm-up then cosine annealing per epoch, gradient-norm
/// clipping, Smooth L1 or L1 loss, validation every epoch, best network by validation loss. After every epoch it
/// writes <c>metrics.csv</c>, <c>curves.png</c> and a resumable checkpoint (network, optimiser, epoch, best so far),
/// so a killed run continues where it stopped. Randomness comes from (seed, epoch, sample), so a resumed run
/// follows the same path as an uninterrupted one.
/// </summary>
public sealed class KeypointTrainer
{
    /// <summary>File name of the best network (a safetensors checkpoint with metadata) in the run folder.</summary>
    public const string BestModelFile = "best.safetensors";

    private const string StateFile = "state.json";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
    private readonly TrainerOptions options;
    private readonly ILogger logger;

    /// <summary>Creates a trainer.</summary>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">The options are invalid.</exception>
    public KeypointTrainer(TrainerOptions options, ILogger<KeypointTrainer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options;
        this.logger = logger ?? NullLogger<KeypointTrainer>.Instance;
    }

    /// <summary>The options of this trainer.</summary>
    public TrainerOptions Options => options;

    /// <summary>The training-time augmentation these options describe, applied after the cached resize.</summary>
    public IKeypointTransform Augmentation(LandmarkScheme scheme)
    {
        var steps = new List<IKeypointTransform>();
        if (options.MaxRotationDegrees > 0 || options.MaxScaleChange > 0 || options.MaxTranslation > 0)
        {
            steps.Add(new RandomAffine(options.MaxRotationDegrees, 1 - options.MaxScaleChange, 1 + options.MaxScaleChange, options.MaxTranslation));
        }

        if (options.FlipProbability > 0)
        {
            steps.Add(new HorizontalFlip(scheme, options.FlipProbability));
        }

        if (options.DegradationScope == DegradationScope.AllSources)
        {
            steps.Add(Degradation());
        }

        if (options.ColorJitter > 0)
        {
            steps.Add(new ColorJitter(options.ColorJitter, options.ColorJitter, options.ColorJitter));
        }

        return new Compose(steps);
    }

    /// <summary>
    /// The blur and low-resolution steps of these options (empty when both chances are 0): part of
    /// <see cref="Augmentation"/> with <see cref="DegradationScope.AllSources"/>, otherwise for the caller to give the
    /// photo sources of a mix as their <see cref="FaceSource.Augmentation"/>.
    /// </summary>
    public IKeypointTransform Degradation()
    {
        var steps = new List<IKeypointTransform>();
        if (options.LowResolutionProbability > 0)
        {
            steps.Add(new LowResolution(options.LowResolutionProbability, options.MinResolutionScale, 0.9f));
        }

        if (options.BlurProbability > 0)
        {
            steps.Add(new GaussianBlur(options.BlurProbability, 0.3f, options.MaxBlurSigma));
        }

        return new Compose(steps);
    }

    /// <summary>
    /// Seeds libtorch's generator from <see cref="TrainerOptions.Seed"/>, so that the network constructed next (a
    /// randomly initialised backbone, a new head) gets initial weights that are a function of the seed: two runs
    /// with the same options start from the same weights. Call it right before constructing the network;
    /// <see cref="Train"/> seeds the generator again for every epoch (dropout).
    /// </summary>
    public void SeedInitialWeights() => torch.manual_seed(InitialWeightsSeed(options.Seed));

    /// <summary>The libtorch seed of <see cref="SeedInitialWeights"/>: apart from the per-epoch seeds of the same run.</summary>
    internal static long InitialWeightsSeed(int seed) => ((long)seed * 1_000_003) - 0x1417;

    /// <summary>The loss between predicted and true normalised keypoints.</summary>
    public Tensor ComputeLoss(Tensor predicted, Tensor truth) => options.Loss switch
    {
        LossKind.L1 => torch.nn.functional.l1_loss(predicted, truth),
        _ => torch.nn.functional.smooth_l1_loss(predicted, truth, beta: options.SmoothL1Beta),
    };

    /// <summary>
    /// Trains, or resumes the run found in <paramref name="runDirectory"/>. Cancellation stops between steps;
    /// the checkpoint of the last finished epoch stays, and the next call resumes from it.
    /// </summary>
    /// <param name="model">The network to train (its weights are replaced when resuming).</param>
    /// <param name="train">Training samples (original images and keypoints); a <see cref="MixedFaceDataset"/> is drawn by its sources' shares.</param>
    /// <param name="validation">Validation samples.</param>
    /// <param name="normalization">Pixel normalisation the network's initial weights expect.</param>
    /// <param name="runDirectory">Where to write the run.</param>
    /// <param name="progress">Receives per-step and per-epoch progress.</param>
    /// <param name="cancellationToken">Stops the run between steps.</param>
    /// <param name="augmentation">
    /// Training-time transforms applied after the resize to <see cref="TrainerOptions.InputSize"/>; null uses
    /// <see cref="Augmentation"/> (built from the options). Output must keep the input size.
    /// </param>
    /// <exception cref="OperationCanceledException">The run was cancelled; its last finished epoch is saved.</exception>
    public TrainingResult Train(
        KeypointNetwork model,
        IFaceDataset train,
        IFaceDataset validation,
        NormalizationSpec normalization,
        string runDirectory,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        IKeypointTransform? augmentation = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(normalization);
        ArgumentNullException.ThrowIfNull(runDirectory);
        Directory.CreateDirectory(runDirectory);
        if (options.TorchThreads > 0)
        {
            torch.set_num_threads(options.TorchThreads);
        }

        // Under BadFilePolicy.Skip each unreadable image is logged once, the first time a loader leaves it out
        // (training or validation, in every epoch a loader meets it again), and counted at the end.
        var skippedImages = new List<string>();
        void Skipped(ImageDecodeException e)
        {
            lock (skippedImages)
            {
                string file = e.FilePath ?? e.Message;
                if (!skippedImages.Contains(file))
                {
                    skippedImages.Add(file);
                    logger.LogWarning("Left out: {Problem}", e.Message);
                }
            }
        }

        var scheme = train.Scheme;
        var resize = new Rescale(options.InputSize);
        IFaceDataset trainSource = options.CacheImages ? new CachedFaceDataset(train, resize) : train;
        IFaceDataset validationSource = options.CacheImages ? new CachedFaceDataset(validation, resize) : validation;
        augmentation ??= Augmentation(scheme);
        if (train is MixedFaceDataset sourced)
        {
            augmentation = sourced.WithSourceAugmentation(augmentation); // each source's own steps first
        }

        var loader = new FaceBatchLoader(trainSource, options.CacheImages ? augmentation : new Compose(resize, augmentation), new BatchLoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = true,
            DropLast = train.Count > options.BatchSize,
            Seed = options.Seed,
            Workers = options.Workers,
            Normalization = normalization,
            BadFiles = options.BadFiles,
            OnImageSkipped = Skipped,

            // A mix of sources is drawn by its shares every epoch (each sample once when it has no weights).
            Sampler = train is MixedFaceDataset mixed ? mixed.CreateSampler(options.Seed) : null,
        });

        var device = DeviceSelector.Resolve(options.Device);
        model.to(device);
        using var optimizer = torch.optim.AdamW(model.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var state = Resume(runDirectory, model, optimizer);
        var history = MetricsCsv.Read(Path.Combine(runDirectory, "metrics.csv")).Take(state.CompletedEpochs).ToList();
        if (state.CompletedEpochs > 0)
        {
            logger.LogInformation("Resuming {Run} after epoch {Epoch} (best validation loss {Best:G4} at epoch {BestEpoch})", runDirectory, state.CompletedEpochs, state.BestValidationLoss, state.BestEpoch);
        }

        int totalSteps = state.Steps;
        for (int epoch = state.CompletedEpochs; epoch < options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lr = options.LearningRateAt(epoch);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            torch.manual_seed(((long)options.Seed * 1_000_003) + (epoch * 7919) + 0xd0);
            model.train();
            double lossSum = 0;
            int step = 0;
            foreach (var batch in loader.Epoch(epoch, cancellationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                using var owned = batch;
                optimizer.zero_grad();
                var (images, keypoints) = device.type == DeviceType.CPU ? (batch.Images, batch.Keypoints) : (batch.Images.to(device), batch.Keypoints.to(device));
                var loss = ComputeLoss(model.call(images), keypoints);
                loss.backward();
                if (options.GradientClipNorm > 0)
                {
                    torch.nn.utils.clip_grad_norm_(model.parameters(), options.GradientClipNorm);
                }

                optimizer.step();
                lossSum += loss.item<float>();
                step++;
                totalSteps++;
                progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, step, loader.BatchesPerEpoch, lossSum / step));
                if (options.MaxSteps > 0 && totalSteps >= options.MaxSteps)
                {
                    break;
                }
            }

            var evaluation = KeypointEvaluator.Evaluate(model, validationSource, options.InputSize, normalization, options.FlipTestTimeAugmentation, ComputeLoss, cancellationToken: cancellationToken, badFiles: options.BadFiles, onImageSkipped: Skipped);
            var row = new EpochMetrics(epoch + 1, lossSum / Math.Max(1, step), evaluation.Loss, evaluation.Summary.Nme, evaluation.Summary.Mae224, lr, clock.Elapsed.TotalSeconds);
            history.Add(row);

            bool improved = row.ValidationLoss < state.BestValidationLoss;
            state = state with
            {
                Epochs = options.Epochs,
                InputSize = options.InputSize,
                CompletedEpochs = epoch + 1,
                Steps = totalSteps,
                BestValidationLoss = improved ? row.ValidationLoss : state.BestValidationLoss,
                BestEpoch = improved ? epoch + 1 : state.BestEpoch,
            };
            if (improved)
            {
                var metadata = ModelMetadata.ForScheme(scheme, options.InputSize, normalization) with
                {
                    Extra = new Dictionary<string, string>
                    {
                        ["epoch"] = (epoch + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["validation_loss"] = row.ValidationLoss.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
                        ["validation_nme"] = row.ValidationNme.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
                    },
                };
                KeypointCheckpoint.Save(Path.Combine(runDirectory, BestModelFile), model, metadata);
            }

            MetricsCsv.Write(Path.Combine(runDirectory, "metrics.csv"), history);
            TrainingCurves.Save(Path.Combine(runDirectory, "curves.png"), history);
            SaveCheckpoint(runDirectory, model, optimizer, state);
            logger.LogInformation(
                "Epoch {Epoch}/{Epochs}: train {Train:F5}, val {Val:F5}, val NME {Nme:F4}, val MAE {Mae:F2} px, lr {Lr:G3}, {Seconds:F0} s{Best}",
                row.Epoch, options.Epochs, row.TrainLoss, row.ValidationLoss, row.ValidationNme, row.ValidationMae, lr, row.Seconds, improved ? " (best)" : string.Empty);
            progress?.Report(new TrainingProgress(epoch + 1, options.Epochs, step, loader.BatchesPerEpoch, row.TrainLoss, row));
            if (options.MaxSteps > 0 && totalSteps >= options.MaxSteps)
            {
                break;
            }
        }

        if (skippedImages.Count > 0)
        {
            logger.LogWarning("{Count} image(s) could not be read or decoded and were left out of training and validation", skippedImages.Count);
        }

        return new TrainingResult(runDirectory, history, state.BestEpoch, Path.Combine(runDirectory, BestModelFile)) { SkippedImages = [.. skippedImages] };
    }

    /// <summary>The resumable state of a run folder, or null when it has none.</summary>
    internal static RunState? ReadState(string runDirectory)
    {
        string path = Path.Combine(runDirectory, StateFile);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<RunState>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid run state: {e.Message}", e);
        }
    }

    private RunState Resume(string runDirectory, KeypointNetwork model, OptimizerHelper optimizer)
    {
        RemoveStaleTemporaries(runDirectory);
        var state = ReadState(runDirectory);
        if (state is not null && VerifyCheckpoint(runDirectory, state) is { } problem)
        {
            // The latest checkpoint is damaged (a disk error, a copy cut short, a file edited by hand): fall back to
            // the one before it, which the state keeps until a newer one is complete.
            if (state.Previous is { } previous && VerifyCheckpoint(runDirectory, previous) is null)
            {
                logger.LogWarning("The checkpoint of epoch {Epoch} in {Run} is unusable ({Problem}); resuming from epoch {Previous}", state.CompletedEpochs, runDirectory, problem, previous.CompletedEpochs);
                state = previous;
            }
            else
            {
                throw new InvalidDataException($"The checkpoint of epoch {state.CompletedEpochs} in '{runDirectory}' is unusable ({problem}) and no earlier good checkpoint is left; start a new folder.");
            }
        }

        if (state is null)
        {
            return new RunState(0, 0, double.PositiveInfinity, 0, null, null) { Epochs = options.Epochs, InputSize = options.InputSize };
        }

        if (state.CompletedEpochs > options.Epochs)
        {
            throw new InvalidOperationException($"The run in '{runDirectory}' already has {state.CompletedEpochs} epochs, more than the {options.Epochs} asked for; ask for at least {state.CompletedEpochs} or use a new folder.");
        }

        if (state.Epochs != 0 && state.Epochs != options.Epochs)
        {
            logger.LogWarning("The run in {Run} was started for {Before} epochs and now asks for {After}: the cosine schedule changes shape from epoch {Next}", runDirectory, state.Epochs, options.Epochs, state.CompletedEpochs + 1);
        }

        if (state.InputSize != 0 && state.InputSize != options.InputSize)
        {
            throw new InvalidOperationException($"The run in '{runDirectory}' trains at {state.InputSize} px; it cannot resume at {options.InputSize} px. Use a new folder.");
        }

        model.load(Path.Combine(runDirectory, state.ModelFile!));
        optimizer.load_state_dict(Path.Combine(runDirectory, state.OptimizerFile!));
        return state;
    }

    private static void SaveCheckpoint(string runDirectory, KeypointNetwork model, OptimizerHelper optimizer, RunState state)
    {
        // Files carry the epoch in their names and state.json is replaced last, so a crash at any point leaves
        // a state.json that names complete files. Each file's SHA-256 goes into the state, and the previous
        // checkpoint stays on disk until the next one is complete, so a damaged latest one falls back to it.
        string modelFile = $"last-model-{state.CompletedEpochs:D3}.bin";
        string optimizerFile = $"last-optimizer-{state.CompletedEpochs:D3}.bin";
        AtomicFile.Write(Path.Combine(runDirectory, modelFile), temporary => model.save(temporary));
        AtomicFile.Write(Path.Combine(runDirectory, optimizerFile), temporary => optimizer.save_state_dict(temporary));
        var previous = ReadState(runDirectory);
        var current = state with
        {
            ModelFile = modelFile,
            OptimizerFile = optimizerFile,
            ModelSha256 = Sha256(Path.Combine(runDirectory, modelFile)),
            OptimizerSha256 = Sha256(Path.Combine(runDirectory, optimizerFile)),
            Previous = previous is null || previous.CompletedEpochs >= state.CompletedEpochs ? null : previous with { Previous = null },
        };
        AtomicFile.WriteAllText(Path.Combine(runDirectory, StateFile), JsonSerializer.Serialize(current, Json));
        var keep = new HashSet<string?>(StringComparer.Ordinal) { modelFile, optimizerFile, current.Previous?.ModelFile, current.Previous?.OptimizerFile };
        foreach (string file in Directory.EnumerateFiles(runDirectory, "last-*.bin").Select(Path.GetFileName)!)
        {
            if (!keep.Contains(file))
            {
                File.Delete(Path.Combine(runDirectory, file));
            }
        }
    }

    /// <summary>Why a state's checkpoint files cannot be used (missing, or not the bytes that were written), or null when they can.</summary>
    internal static string? VerifyCheckpoint(string runDirectory, RunState state)
    {
        foreach (var (file, hash) in new[] { (state.ModelFile, state.ModelSha256), (state.OptimizerFile, state.OptimizerSha256) })
        {
            if (file is null)
            {
                return "the state names no checkpoint file";
            }

            string path = Path.Combine(runDirectory, file);
            if (!File.Exists(path))
            {
                return $"'{file}' is missing";
            }

            // States written before checksums existed are trusted as they were.
            if (hash is not null && !string.Equals(Sha256(path), hash, StringComparison.OrdinalIgnoreCase))
            {
                return $"'{file}' does not match its SHA-256 checksum ({new FileInfo(path).Length} bytes): it is truncated or corrupt";
            }
        }

        return null;
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>Deletes the temporary files of writes a killed run left behind (<c>name.PID.tmp</c>, <c>.name.PID.GUID.tmp</c>).</summary>
    private static void RemoveStaleTemporaries(string runDirectory)
    {
        foreach (string path in Directory.EnumerateFiles(runDirectory, "*.tmp"))
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>What a run folder records to resume.</summary>
/// <param name="CompletedEpochs">Epochs finished.</param>
/// <param name="Steps">Optimisation steps taken.</param>
/// <param name="BestValidationLoss">Lowest validation loss so far.</param>
/// <param name="BestEpoch">1-based epoch of that loss.</param>
/// <param name="ModelFile">The last network's file in the run folder.</param>
/// <param name="OptimizerFile">The optimiser state's file in the run folder.</param>
internal sealed record RunState(int CompletedEpochs, int Steps, double BestValidationLoss, int BestEpoch, string? ModelFile, string? OptimizerFile)
{
    /// <summary>Epochs the run was last asked for (0 in files written before this field existed).</summary>
    public int Epochs { get; init; }

    /// <summary>The run's input size (0 in files written before this field existed).</summary>
    public int InputSize { get; init; }

    /// <summary>SHA-256 of <see cref="ModelFile"/> as written (null in files written before checksums).</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>SHA-256 of <see cref="OptimizerFile"/> as written.</summary>
    public string? OptimizerSha256 { get; init; }

    /// <summary>The checkpoint before this one, kept on disk as the fallback when this one is damaged.</summary>
    public RunState? Previous { get; init; }
}
