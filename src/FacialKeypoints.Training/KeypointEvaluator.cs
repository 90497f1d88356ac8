using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Inference;
using FacialKeypoints.Training.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Training;

/// <summary>One image's prediction in its original pixels, with its ground truth.</summary>
/// <param name="Info">The sample.</param>
/// <param name="Predicted">Predicted flat keypoints, original pixels.</param>
/// <param name="Truth">True flat keypoints, original pixels.</param>
public sealed record ImagePrediction(SampleInfo Info, float[] Predicted, float[] Truth);

/// <summary>Metrics, per-image errors and predictions of one evaluation.</summary>
/// <param name="Summary">Dataset-level metrics.</param>
/// <param name="Errors">Per-image errors, in dataset order.</param>
/// <param name="Predictions">Per-image predictions, in dataset order.</param>
/// <param name="Loss">Mean training loss on the evaluated set (normalised coordinates of the network frame).</param>
public sealed record EvaluationResult(MetricsSummary Summary, IReadOnlyList<ImageError> Errors, IReadOnlyList<ImagePrediction> Predictions, double Loss);

/// <summary>Runs a network over a dataset and scores it.</summary>
public static class KeypointEvaluator
{
    /// <summary>
    /// Predicts normalised keypoints for a batch, under <c>no_grad</c> by the caller. With
    /// <paramref name="flipAverage"/>, averages with the prediction for the mirrored images (mapped back: x
    /// negated, points permuted by the scheme).
    /// </summary>
    public static Tensor PredictNormalized(KeypointNetwork model, Tensor images, LandmarkScheme scheme, bool flipAverage)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(scheme);
        var prediction = model.call(images);
        if (!flipAverage)
        {
            return prediction;
        }

        using var scope = torch.NewDisposeScope();
        var unmirrored = MirroredKeypoints.Unmirror(model.call(images.flip(3)), scheme.FlipPermutation);
        return ((prediction + unmirrored) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>Converts a [B, 2K] normalised prediction into original-pixel keypoints per sample.</summary>
    public static IReadOnlyList<float[]> ToOriginalPixels(Tensor normalized, FaceBatch batch)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        ArgumentNullException.ThrowIfNull(batch);
        var values = normalized.detach().cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        int width = (int)normalized.shape[1];
        var result = new float[batch.Count][];
        for (int b = 0; b < batch.Count; b++)
        {
            var info = batch.Infos[b];
            var framePixels = KeypointNormalization.Denormalize(values.AsSpan(b * width, width), batch.Width, batch.Height);
            result[b] = KeypointNormalization.FromSquareFrame(framePixels, batch.Width, info.OriginalWidth, info.OriginalHeight);
        }

        return result;
    }

    /// <summary>Evaluates a network on a dataset, resized to the network's square input.</summary>
    /// <param name="model">The network; switched to eval mode.</param>
    /// <param name="dataset">Samples with ground truth in original pixels.</param>
    /// <param name="inputSize">Network input side.</param>
    /// <param name="normalization">Pixel normalisation the network expects.</param>
    /// <param name="flipAverage">Average with the mirrored prediction.</param>
    /// <param name="loss">The loss to report (normalised coordinates).</param>
    /// <param name="batchSize">Images per forward pass.</param>
    /// <param name="progress">Receives the number of images done.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <param name="badFiles">
    /// An image that cannot be read or decoded: <see cref="BadFilePolicy.Fail"/> throws its
    /// <see cref="ImageDecodeException"/>; <see cref="BadFilePolicy.Skip"/> leaves it out of the scores.
    /// </param>
    /// <param name="onImageSkipped">Under <see cref="BadFilePolicy.Skip"/>, receives each image left out.</param>
    /// <exception cref="ImageDecodeException">An image cannot be decoded, under <see cref="BadFilePolicy.Fail"/>.</exception>
    public static EvaluationResult Evaluate(
        KeypointNetwork model,
        IFaceDataset dataset,
        int inputSize,
        NormalizationSpec normalization,
        bool flipAverage = false,
        Func<Tensor, Tensor, Tensor>? loss = null,
        int batchSize = 32,
        IProgress<int>? progress = null,
        CancellationToken cancellationToken = default,
        BadFilePolicy badFiles = BadFilePolicy.Fail,
        Action<ImageDecodeException>? onImageSkipped = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        var loader = new FaceBatchLoader(
            dataset,
            new Rescale(inputSize),
            new BatchLoaderOptions { BatchSize = batchSize, Normalization = normalization, Workers = 2, BadFiles = badFiles, OnImageSkipped = onImageSkipped });
        loss ??= (p, t) => torch.nn.functional.smooth_l1_loss(p, t);
        var accumulator = new MetricAccumulator(dataset.Scheme);
        var predictions = new List<ImagePrediction>(dataset.Count);
        double lossSum = 0;
        int done = 0;
        model.eval();
        var device = model.parameters().First().device; // batches follow the network (CPU or CUDA)
        using (torch.no_grad())
        {
            foreach (var batch in loader.Epoch(0, cancellationToken))
            {
                using var scope = torch.NewDisposeScope();
                using var owned = batch;
                var images = device.type == DeviceType.CPU ? batch.Images : batch.Images.to(device);
                var predicted = PredictNormalized(model, images, dataset.Scheme, flipAverage);
                lossSum += loss(predicted, device.type == DeviceType.CPU ? batch.Keypoints : batch.Keypoints.to(device)).item<float>() * batch.Count;
                var pixels = ToOriginalPixels(predicted, batch);
                var truths = ToOriginalPixels(batch.Keypoints, batch);
                for (int b = 0; b < batch.Count; b++)
                {
                    var info = batch.Infos[b];
                    accumulator.Update(info.Name, pixels[b], truths[b], info.OriginalWidth, info.OriginalHeight);
                    predictions.Add(new ImagePrediction(info, pixels[b], truths[b]));
                }

                done += batch.Count;
                progress?.Report(done);
            }
        }

        return new EvaluationResult(accumulator.Compute(), accumulator.Errors, predictions, lossSum / Math.Max(1, done));
    }
}
