using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Import;
using FacialKeypoints.Models.Inference;
using FacialKeypoints.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FacialKeypoints.Extending;

/// <summary>
/// The code that the documentation shows, between <c>// &lt;name&gt;</c> and <c>// &lt;/name&gt;</c> markers.
/// Program.cs runs each recipe on synthetic data and checks that the docs still quote them word for word.
/// </summary>
internal static class Recipes
{
    // <custom-transform-pipeline>
    public static FaceBatchLoader CreateLoader(IFaceDataset train, int inputSize)
    {
        // Deterministic preparation, done once and kept in memory: decode and resize.
        var cached = new CachedFaceDataset(train, new Rescale(inputSize));

        // Random augmentation, drawn again for every sample of every epoch from (seed, epoch, index).
        var augment = new Compose(
            new RandomAffine(maxRotationDegrees: 12, minScale: 0.9f, maxScale: 1.1f, maxTranslation: 0.05f),
            new HorizontalFlip(train.Scheme),
            new RandomCutout(probability: 0.3, maxSize: 0.35f));

        return new FaceBatchLoader(cached, augment, new BatchLoaderOptions
        {
            BatchSize = 32,
            Shuffle = true,
            Seed = 1,
            Normalization = ImageNetResNet18.Normalization,
        });
    }
    // </custom-transform-pipeline>

    // <custom-network>
    public static KeypointNetwork CreateNetwork(LandmarkScheme scheme, int hiddenFeatures = 256)
    {
        // ImageNet weights imported from ML.NET's ResNet18.onnx, which referencing FacialKeypoints.Training copies
        // beside the application. Feed the network images normalised with ImageNetResNet18.Normalization.
        var backbone = ImageNetResNet18.CreateBackbone(ImageNetResNet18.RecommendedLayout);
        try
        {
            return new KeypointNetwork(backbone, new LayerNormHead(backbone.OutFeatures, scheme.Count, hiddenFeatures));
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }
    // </custom-network>

    // <custom-checkpoint>
    public static ModelMetadata Save(string path, KeypointNetwork network, LandmarkScheme scheme, int inputSize) =>
        KeypointCheckpoint.Save(path, network, ModelMetadata.ForScheme(scheme, inputSize, ImageNetResNet18.Normalization));

    public static KeypointPredictor LoadPredictor(string path)
    {
        // Without a head factory, Load only rebuilds ReferenceHead and rejects other head kinds.
        var (network, metadata) = KeypointCheckpoint.Load(path, headFactory: LayerNormHead.FromMetadata);
        try
        {
            return new KeypointPredictor(network, metadata, new PredictorOptions { FlipAverage = true });
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
    // </custom-checkpoint>

    // <train-custom-network>
    public static TrainingResult Train(IFaceDataset train, IFaceDataset validation, string runDirectory, CancellationToken cancellationToken)
    {
        var trainer = new KeypointTrainer(new TrainerOptions
        {
            InputSize = 160,
            Loss = LossKind.L1,
            Epochs = 30,
            WarmupEpochs = 1,
            BatchSize = 32,
            MaxRotationDegrees = 12,
            MaxScaleChange = 0.1f,
            MaxTranslation = 0.05f,
            ColorJitter = 0.2f,
            FlipTestTimeAugmentation = true,
        });
        using var network = CreateNetwork(train.Scheme);
        return trainer.Train(network, train, validation, ImageNetResNet18.Normalization, runDirectory, cancellationToken: cancellationToken);
    }
    // </train-custom-network>

    public static FacePrediction PredictOne(string modelPath, string imagePath)
    {
        // <predict>
        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath });
        RgbImage face = ImageDecoder.Decode(imagePath);
        FacePrediction prediction = predictor.Predict(face);
        float[] points = prediction.Keypoints; // x0, y0, x1, y1, ... in the pixels of the image as given
        Console.WriteLine($"{points.Length / 2} points; tip of the nose (point 30) at ({points[60]:F1}, {points[61]:F1})");
        // </predict>
        return prediction;
    }

    public static FacePrediction PredictWithDependencyInjection(string modelPath, RgbImage face)
    {
        // <dependency-injection>
        var services = new ServiceCollection();
        services.AddFacialKeypointsModels(configure: options =>
        {
            options.ModelPath = modelPath; // leave it null to use the shipped model
            options.FlipAverage = true;
        });

        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate(); // a host does this when it starts
        var predictor = provider.GetRequiredService<KeypointPredictor>(); // a singleton, disposed with the provider
        // </dependency-injection>
        return predictor.Predict(face);
    }
}
