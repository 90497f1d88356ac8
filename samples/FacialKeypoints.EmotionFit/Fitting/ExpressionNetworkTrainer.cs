using System.ComponentModel.DataAnnotations;
using System.Globalization;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Emotion;
using FacialKeypoints.Models.Import;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit.Fitting;

/// <summary>Settings of an <see cref="ExpressionNetwork"/> fit: the crop, the network, the schedule and the augmentation.</summary>
internal sealed class ExpressionNetworkOptions
{
    /// <summary>The face region the network reads. Default: brows to chin, 2.2 inter-ocular distances, 128 px.</summary>
    [Required]
    public CropSpec Crop { get; set; } = CropSpec.WholeFace;

    /// <summary>ResNet-18 stages kept: 3 or 4. Default 3 (layer3; 2.8 M parameters).</summary>
    [Range(3, 4)]
    public int Stages { get; set; } = 3;

    /// <summary>The first stage that learns; the stem and earlier stages keep their ImageNet weights. Default 3.</summary>
    [Range(1, 4)]
    public int FirstTrainedStage { get; set; } = 3;

    /// <summary>Passes over the training faces. Default 15.</summary>
    [Range(1, 1000)]
    public int Epochs { get; set; } = 15;

    /// <summary>Faces per step. Default 32.</summary>
    [Range(2, 1024)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Peak AdamW learning rate, annealed to zero with a cosine over the epochs. Default 3e-4.</summary>
    [Range(1e-7, 1.0)]
    public double LearningRate { get; set; } = 3e-4;

    /// <summary>AdamW weight decay. Default 1e-4.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Dropout before the linear layer. Default 0.3.</summary>
    [Range(0.0, 0.95)]
    public double Dropout { get; set; } = 0.3;

    /// <summary>Class weight power in the loss: 0 none, 1 balanced. Default 0.5.</summary>
    [Range(0.0, 2.0)]
    public double ClassWeightPower { get; set; } = 0.5;

    /// <summary>The negative class. Default <see cref="NegativeHandling.Exclude"/>.</summary>
    public NegativeHandling Negative { get; set; } = NegativeHandling.Exclude;

    /// <summary>Largest random in-plane rotation of the training crops, degrees. Default 10.</summary>
    [Range(0.0, 45.0)]
    public double Rotation { get; set; } = 10;

    /// <summary>Largest random relative zoom of the training crops. Default 0.1.</summary>
    [Range(0.0, 0.5)]
    public double Scale { get; set; } = 0.1;

    /// <summary>Largest random shift of the training crops, in inter-ocular distances. Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double Translation { get; set; } = 0.1;

    /// <summary>Largest random brightness and contrast change of the training crops (relative). Default 0.2.</summary>
    [Range(0.0, 1.0)]
    public double ColorJitter { get; set; } = 0.2;

    /// <summary>Whether prediction averages the crop and its mirror image. Default true.</summary>
    public bool MirrorAverage { get; set; } = true;

    /// <summary>
    /// Backbone weights to start from (written by <see cref="LandmarkPretraining.SaveBackbone"/>) instead of the
    /// ImageNet ones; null starts from ImageNet. Default null.
    /// </summary>
    public string? InitialBackbonePath { get; set; }

    /// <summary>Seed of the weight initialisation, shuffling and augmentation. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>A short text of the settings, for reports and metadata.</summary>
    /// <returns>The text.</returns>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"crop=({Crop.CenterU},{Crop.CenterV},{Crop.Extent},{Crop.Size}) stages={Stages} firstTrained={FirstTrainedStage} epochs={Epochs} batch={BatchSize} lr={LearningRate} wd={WeightDecay} dropout={Dropout} classWeightPower={ClassWeightPower} negative={Negative} rotation={Rotation} scale={Scale} translation={Translation} colorJitter={ColorJitter} mirrorAverage={MirrorAverage} init={(InitialBackbonePath is null ? "imagenet" : Path.GetFileName(InitialBackbonePath))} seed={Seed}");
}

/// <summary>
/// Fits an <see cref="ExpressionNetwork"/> on labelled faces: ImageNet start, frozen early stages, AdamW with a
/// cosine schedule, class-weighted cross-entropy, and crops randomly rotated, zoomed, shifted, mirrored and
/// brightness/contrast-jittered in the face frame. Cross-validates with identity-grouped folds. CPU only.
/// </summary>
internal static class ExpressionNetworkTrainer
{
    /// <summary>Fits a network.</summary>
    /// <param name="faces">The faces.</param>
    /// <param name="labels">The label of each face; classes the options leave out are skipped.</param>
    /// <param name="options">The settings.</param>
    /// <param name="onnxPath">ResNet18.onnx for the ImageNet start, or null to search for it.</param>
    /// <param name="progress">Receives a line per epoch; may be null.</param>
    /// <returns>The fitted network in evaluation mode, owned by the caller, and its class labels in output order.</returns>
    /// <exception cref="ArgumentException">Counts differ, the options are invalid, or a class has no face.</exception>
    public static (ExpressionNetwork Network, IReadOnlyList<ExpressionLabel> Classes) Fit(
        IReadOnlyList<ExpressionFace> faces,
        IReadOnlyList<ExpressionLabel> labels,
        ExpressionNetworkOptions options,
        string? onnxPath = null,
        IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        options.Crop.Validate();
        if (options.Crop.Size % 16 != 0)
        {
            throw new ArgumentException($"The crop size {options.Crop.Size} must be a multiple of 16.", nameof(options));
        }

        if (faces.Count != labels.Count)
        {
            throw new ArgumentException($"{faces.Count} faces but {labels.Count} labels.");
        }

        var classes = ClassesFor(options.Negative).ToList();
        var rows = new List<int>();
        var targets = new List<long>();
        for (int i = 0; i < faces.Count; i++)
        {
            int c = classes.IndexOf(labels[i]);
            if (c >= 0)
            {
                rows.Add(i);
                targets.Add(c);
            }
        }

        var counts = new int[classes.Count];
        foreach (long t in targets)
        {
            counts[t]++;
        }

        for (int c = 0; c < classes.Count; c++)
        {
            if (counts[c] == 0)
            {
                throw new ArgumentException($"No face is labelled {classes[c].ToName()}; it cannot be learned.", nameof(labels));
            }
        }

        TorchRuntime.EnsureInitialized();
        manual_seed(options.Seed);
        var network = new ExpressionNetwork(options.Stages, classes.Count, options.Dropout);
        try
        {
            if (options.InitialBackbonePath is { } initial)
            {
                LandmarkPretraining.LoadBackbone(initial, network);
            }
            else
            {
                ExpressionNetworkTrainer.LoadImageNetWeights(network, onnxPath);
            }

            network.FreezeBelow(options.FirstTrainedStage);
            Train(network, [.. rows.Select(i => faces[i])], [.. targets], counts, options, progress);
            network.eval();
            return (network, classes);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Identity-grouped k-fold cross-validation: each face is predicted by a network fitted without its identity.
    /// Training crops come from <paramref name="faces"/>, held-out crops from <paramref name="evaluationFaces"/>
    /// (for example the same images with predicted landmarks, as at inference).
    /// </summary>
    /// <param name="faces">Faces the networks are fitted on.</param>
    /// <param name="evaluationFaces">The same faces as they are predicted (may be the same list).</param>
    /// <param name="labels">The label of each face.</param>
    /// <param name="identities">The identity of each face (<see cref="SampleInfo.IdentityOf"/>).</param>
    /// <param name="options">The settings.</param>
    /// <param name="folds">The number of folds. Default 5.</param>
    /// <param name="seed">The fold assignment's seed. Default 0.</param>
    /// <param name="onnxPath">ResNet18.onnx, or null to search for it.</param>
    /// <param name="progress">Receives a line per epoch and fold; may be null.</param>
    /// <returns>Out-of-fold predictions and their confusion matrix.</returns>
    public static CrossValidationResult CrossValidate(
        IReadOnlyList<ExpressionFace> faces,
        IReadOnlyList<ExpressionFace> evaluationFaces,
        IReadOnlyList<ExpressionLabel> labels,
        IReadOnlyList<string> identities,
        ExpressionNetworkOptions options,
        int folds = 5,
        int seed = 0,
        string? onnxPath = null,
        IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(evaluationFaces);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(identities);
        int n = labels.Count;
        if (faces.Count != n || evaluationFaces.Count != n || identities.Count != n)
        {
            throw new ArgumentException("Faces, evaluation faces, labels and identities must have one entry per sample.");
        }

        var predictions = new ExpressionPrediction[n];
        int fold = 0;
        foreach (var split in DatasetSplits.IdentityKFold(identities, folds, seed))
        {
            fold++;
            var (network, classes) = Fit([.. split.Train.Select(i => faces[i])], [.. split.Train.Select(i => labels[i])], options, onnxPath, progress is null ? null : new PrefixProgress(progress, $"fold {fold}/{folds}: "));
            using (network)
            {
                var held = NetworkPrediction.Predict(network, classes, [.. split.Validation.Select(i => evaluationFaces[i])], options.Crop, options.MirrorAverage);
                for (int k = 0; k < split.Validation.Count; k++)
                {
                    predictions[split.Validation[k]] = held[k];
                }
            }
        }

        return new CrossValidationResult(predictions, ConfusionMatrix.From(labels, [.. predictions.Select(p => p.Label)]));
    }

    /// <summary>Copies the ImageNet weights into a network's backbone (the starting point of fitting).</summary>
    /// <param name="network">The network.</param>
    /// <param name="onnxPath">ResNet18.onnx, or null to search for it (<see cref="ImageNetResNet18.FindOnnxFile"/>).</param>
    /// <exception cref="FileNotFoundException">The file was not found.</exception>
    public static void LoadImageNetWeights(ExpressionNetwork network, string? onnxPath = null) =>
        ImageNetResNet18.LoadInto(network.Backbone, onnxPath ?? ImageNetResNet18.FindOnnxFileOrThrow());

    /// <summary>The classes a network learns under a negative-class setting, in output order.</summary>
    /// <param name="negative">The setting.</param>
    /// <returns>Neutral and positive, plus negative when learned.</returns>
    public static IReadOnlyList<ExpressionLabel> ClassesFor(NegativeHandling negative) =>
        negative == NegativeHandling.Learn ? ExpressionLabels.All : [ExpressionLabel.Neutral, ExpressionLabel.Positive];

    private static void Train(ExpressionNetwork network, IReadOnlyList<ExpressionFace> faces, long[] targets, int[] counts, ExpressionNetworkOptions options, IProgress<string>? progress)
    {
        int n = faces.Count;
        var weights = counts.Select(c => (float)Math.Pow((double)n / (counts.Length * c), options.ClassWeightPower)).ToArray();
        using var classWeights = tensor(weights);
        int correct = 0;
        RunEpochs(
            network,
            faces,
            options,
            (logits, indices, _) =>
            {
                var y = tensor(indices.Select(i => targets[i]).ToArray());
                correct += (int)logits.argmax(1).eq(y).sum().item<long>();
                return nn.functional.cross_entropy(logits, y, weight: classWeights);
            },
            (epoch, lossSum, _) =>
            {
                progress?.Report(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{options.Epochs} loss {lossSum / n:0.0000} training accuracy {(double)correct / n:0.000}"));
                correct = 0;
            });
    }

    /// <summary>One batch's loss from the network's output, the faces in the batch and their augmented views.</summary>
    internal delegate Tensor BatchLoss(Tensor output, int[] indices, (FaceFrame Frame, bool Mirror)[] views);

    /// <summary>
    /// The loop every fit shares: AdamW on the trainable parameters with a per-step cosine learning rate, shuffled
    /// batches of augmented crops (a last batch of one is skipped: batch norm needs two), gradient-norm clipping at 5.
    /// After each epoch <paramref name="epochDone"/> gets the epoch, the loss summed over faces and the faces seen.
    /// </summary>
    internal static void RunEpochs(ExpressionNetwork network, IReadOnlyList<ExpressionFace> faces, ExpressionNetworkOptions options, BatchLoss lossOf, Action<int, double, int> epochDone)
    {
        int n = faces.Count;
        var frames = faces.Select(f => FaceFrame.FromLandmarks(f.Landmarks)).ToArray();
        var random = new Random(options.Seed);
        var trainable = network.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = torch.optim.AdamW(trainable, options.LearningRate, weight_decay: options.WeightDecay);
        int totalSteps = ((n + options.BatchSize - 1) / options.BatchSize) * options.Epochs;
        int step = 0;
        var order = Enumerable.Range(0, n).ToArray();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            network.train();
            random.Shuffle(order);
            double lossSum = 0;
            int seen = 0;
            for (int start = 0; start < n; start += options.BatchSize)
            {
                int count = Math.Min(options.BatchSize, n - start);
                if (count < 2)
                {
                    break;
                }

                double lr = options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / totalSteps));
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                using var scope = NewDisposeScope();
                var indices = order[start..(start + count)];
                var (input, views) = AugmentedBatch(faces, frames, indices, random, options);
                optimizer.zero_grad();
                var loss = lossOf(network.call(input), indices, views);
                loss.backward();
                nn.utils.clip_grad_norm_(trainable, 5.0);
                optimizer.step();
                step++;
                lossSum += loss.item<float>() * count;
                seen += count;
            }

            epochDone(epoch, lossSum, seen);
        }
    }

    /// <summary>
    /// Randomly perturbed, mirrored and colour-jittered crops of <paramref name="indices"/>' faces as a normalised
    /// batch, with the perturbed frame and mirror flag of each (so landmark targets can follow the crop).
    /// </summary>
    private static (Tensor Input, (FaceFrame Frame, bool Mirror)[] Views) AugmentedBatch(IReadOnlyList<ExpressionFace> faces, FaceFrame[] frames, int[] indices, Random random, ExpressionNetworkOptions options)
    {
        int count = indices.Length;
        var draws = Enumerable.Range(0, count).Select(_ => Augmentation.Draw(random, options)).ToArray();
        var views = new (FaceFrame Frame, bool Mirror)[count];
        var crops = new RgbImage[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, k =>
        {
            int i = indices[k];
            var d = draws[k];
            var frame = frames[i].Perturbed(d.Degrees, d.Scale, d.ShiftU, d.ShiftV);
            var crop = AlignedCrop.Extract(faces[i].Image, frame, options.Crop);
            crops[k] = d.Mirror ? HorizontalFlip.MirrorImage(crop) : crop;
            views[k] = (frame, d.Mirror);
        });

        var input = NetworkPrediction.ToTensor(crops, 0, count);
        if (options.ColorJitter > 0)
        {
            using var gain = tensor(draws.Select(d => d.Contrast).ToArray()).view(count, 1, 1, 1);
            using var offset = tensor(draws.Select(d => d.Brightness).ToArray()).view(count, 1, 1, 1);
            using var scaled = input.mul(gain);
            input.Dispose();
            input = scaled.add(offset);
        }

        return (input, views);
    }

    private readonly record struct Augmentation(float Degrees, float Scale, float ShiftU, float ShiftV, bool Mirror, float Contrast, float Brightness)
    {
        public static Augmentation Draw(Random random, ExpressionNetworkOptions o)
        {
            float Uniform(double limit) => (float)(((random.NextDouble() * 2) - 1) * limit);
            return new Augmentation(
                Uniform(o.Rotation),
                1 + Uniform(o.Scale),
                Uniform(o.Translation),
                Uniform(o.Translation),
                random.Next(2) == 1,
                1 + Uniform(o.ColorJitter),
                Uniform(o.ColorJitter));
        }
    }

    private sealed class PrefixProgress(IProgress<string> inner, string prefix) : IProgress<string>
    {
        public void Report(string value) => inner.Report(prefix + value);
    }
}
