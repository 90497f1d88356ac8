using System.ComponentModel.DataAnnotations;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Inference;

/// <summary>Options of <see cref="KeypointPredictor"/>.</summary>
public sealed class PredictorOptions
{
    /// <summary>The checkpoint to load; null or empty uses the shipped model (<see cref="ShippedModel"/>).</summary>
    public string? ModelPath { get; set; }

    /// <summary>Average each prediction with that of the mirrored image (slower by 2x, more accurate).</summary>
    public bool FlipAverage { get; set; } = true;

    /// <summary><c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c>.</summary>
    [Required]
    public string Device { get; set; } = "cpu";

    /// <summary>Images per forward pass in <see cref="KeypointPredictor.Predict(IReadOnlyList{RgbImage})"/>.</summary>
    [Range(1, 1024)]
    public int BatchSize { get; set; } = 16;
}

/// <summary>One face's landmarks and the features they were computed from.</summary>
/// <param name="Keypoints">Flat keypoints (x0, y0, x1, y1, ...) in the input image's pixels.</param>
/// <param name="Features">The network's pooled backbone features (for expression classification).</param>
public sealed record FacePrediction(float[] Keypoints, float[] Features);

/// <summary>
/// Predicts landmarks of face crops with a trained <see cref="KeypointNetwork"/>: resizes each image to the
/// network's input, normalises it as the checkpoint says, runs the network under <c>no_grad</c> (optionally
/// averaged with the mirrored image) and maps the points back to the image's pixels. Thread-safe; dispose it to
/// free the network.
/// </summary>
public sealed class KeypointPredictor : IDisposable
{
    private readonly KeypointNetwork model;
    private readonly Rescale resize;
    private readonly PredictorOptions options;
    private readonly Device device;
    private readonly Lock gate = new();

    /// <summary>Wraps a network and its metadata; the predictor owns and disposes the network.</summary>
    /// <exception cref="ArgumentException">The metadata does not describe a square input, or flip averaging lacks a flip permutation.</exception>
    public KeypointPredictor(KeypointNetwork model, ModelMetadata metadata, PredictorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        TorchRuntime.EnsureInitialized();
        this.options = options ?? new PredictorOptions();
        Validator.ValidateObject(this.options, new ValidationContext(this.options), validateAllProperties: true);
        if (metadata.InputWidth != metadata.InputHeight)
        {
            throw new ArgumentException($"The predictor needs a square input; the model takes {metadata.InputWidth}x{metadata.InputHeight}.", nameof(metadata));
        }

        if (this.options.FlipAverage && metadata.FlipPermutation is null)
        {
            throw new ArgumentException("Flip averaging needs the model's flip permutation, which its metadata lacks.", nameof(metadata));
        }

        this.model = model;
        Metadata = metadata;
        resize = new Rescale(metadata.InputWidth);
        device = DeviceSelector.Resolve(this.options.Device);
        model.to(device);
        model.eval();
    }

    /// <summary>The loaded model's metadata (input size, normalisation, scheme).</summary>
    public ModelMetadata Metadata { get; }

    /// <summary>The network (for features or export); owned by the predictor.</summary>
    public KeypointNetwork Network => model;

    /// <summary>Loads a checkpoint; with no path, the shipped model.</summary>
    /// <exception cref="FileNotFoundException">The file, or the shipped model, was not found.</exception>
    /// <exception cref="ModelFormatException">The file is not a usable checkpoint.</exception>
    public static KeypointPredictor Load(PredictorOptions? options = null)
    {
        options ??= new PredictorOptions();
        string path = string.IsNullOrEmpty(options.ModelPath) ? ShippedModel.FindOrThrow() : options.ModelPath;
        var (network, metadata) = KeypointCheckpoint.Load(path);
        try
        {
            return new KeypointPredictor(network, metadata, options);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Loads a checkpoint file with default options (flip averaging on, CPU).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not a usable checkpoint.</exception>
    public static KeypointPredictor Load(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return Load(new PredictorOptions { ModelPath = modelPath });
    }

    /// <summary>Predicts one face.</summary>
    public FacePrediction Predict(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Predict([image])[0];
    }

    /// <summary>Predicts several faces, in batches.</summary>
    public IReadOnlyList<FacePrediction> Predict(IReadOnlyList<RgbImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var results = new List<FacePrediction>(images.Count);
        foreach (var chunk in images.Chunk(options.BatchSize))
        {
            results.AddRange(PredictBatch(chunk));
        }

        return results;
    }

    /// <inheritdoc/>
    public void Dispose() => model.Dispose();

    private FacePrediction[] PredictBatch(RgbImage[] images)
    {
        int size = Metadata.InputWidth, plane = size * size, values = 2 * model.KeypointCount;
        var pixels = new float[images.Length * 3 * plane];
        var resized = new RgbImage[images.Length];
        Parallel.For(0, images.Length, i =>
        {
            var sample = new FaceSample(images[i], new float[values], new SampleInfo(i, string.Empty, string.Empty, images[i].Width, images[i].Height));
            resized[i] = resize.Apply(sample, Random.Shared).Image;
            Metadata.Normalization.WriteChannels(resized[i], pixels.AsSpan(i * 3 * plane, 3 * plane));
        });

        float[] keypoints, features;
        lock (gate)
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var input = torch.tensor(pixels, [images.Length, 3, size, size]).to(device);
            var (points, pooled) = model.ForwardWithFeatures(input);
            if (options.FlipAverage)
            {
                var (mirroredPoints, mirroredFeatures) = model.ForwardWithFeatures(input.flip(3));
                points = (points + MirroredKeypoints.Unmirror(mirroredPoints, Metadata.FlipPermutation!)) / 2;
                pooled = (pooled + mirroredFeatures) / 2;
            }

            keypoints = points.cpu().data<float>().ToArray();
            features = pooled.cpu().data<float>().ToArray();
        }

        int featureCount = model.FeatureCount;
        var results = new FacePrediction[images.Length];
        for (int i = 0; i < images.Length; i++)
        {
            var framePixels = KeypointNormalization.Denormalize(keypoints.AsSpan(i * values, values), size, size);
            results[i] = new FacePrediction(
                KeypointNormalization.FromSquareFrame(framePixels, size, images[i].Width, images[i].Height),
                features.AsSpan(i * featureCount, featureCount).ToArray());
        }

        return results;
    }
}
