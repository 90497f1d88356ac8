using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using FacialKeypoints.Data.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Data;

/// <summary>What a loader (and the trainer) does with a sample whose image cannot be read or decoded.</summary>
public enum BadFilePolicy
{
    /// <summary>Stop with the <see cref="ImageDecodeException"/> naming the file.</summary>
    Fail,

    /// <summary>
    /// Leave the sample out of its batch (the batch is one smaller; a batch left empty is not yielded) and report the
    /// file once through <see cref="BatchLoaderOptions.OnImageSkipped"/>. Which samples fail depends on the files
    /// only, so the batches stay the same whatever the number of workers and in every process.
    /// </summary>
    Skip,
}

/// <summary>Options of <see cref="FaceBatchLoader"/>.</summary>
public sealed class BatchLoaderOptions
{
    /// <summary>Samples per batch.</summary>
    [Range(1, int.MaxValue)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Shuffle the order every epoch (seeded by <see cref="Seed"/> and the epoch number).</summary>
    public bool Shuffle { get; set; }

    /// <summary>Leave out a last batch smaller than <see cref="BatchSize"/>.</summary>
    public bool DropLast { get; set; }

    /// <summary>Seed of the order and of every sample's random transform parameters.</summary>
    public int Seed { get; set; }

    /// <summary>Threads decoding and transforming samples.</summary>
    [Range(1, int.MaxValue)]
    public int Workers { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Batches prepared ahead of the consumer.</summary>
    [Range(1, int.MaxValue)]
    public int Prefetch { get; set; } = 2;

    /// <summary>Pixel normalisation applied when building the image tensor.</summary>
    [Required]
    public NormalizationSpec Normalization { get; set; } = NormalizationSpec.ImageNet;

    /// <summary>
    /// Chooses the samples and order of every epoch (for example <see cref="MixedFaceDataset.CreateSampler"/>);
    /// replaces <see cref="Shuffle"/>. Null: every sample once per epoch.
    /// </summary>
    public IEpochSampler? Sampler { get; set; }

    /// <summary>What to do with a sample whose image cannot be read or decoded.</summary>
    [EnumDataType(typeof(BadFilePolicy))]
    public BadFilePolicy BadFiles { get; set; } = BadFilePolicy.Fail;

    /// <summary>
    /// Under <see cref="BadFilePolicy.Skip"/>, called with the error the first time each file is left out by a
    /// loader, from the loader's producer thread, in batch order.
    /// </summary>
    public Action<ImageDecodeException>? OnImageSkipped { get; set; }

    /// <summary>Checks the values, including the rule attributes cannot express (as the other options classes do).</summary>
    /// <exception cref="ValidationException">A value is out of range.</exception>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (Sampler is { SamplesPerEpoch: < 1 })
        {
            throw new ValidationException("The sampler must give at least one sample per epoch.");
        }
    }
}

/// <summary>
/// A batch ready for a network: images [B, 3, H, W] (normalised), keypoints [B, 2K] in [-1, 1] of the image
/// frame, and where each sample came from. Dispose it (or let a dispose scope own its tensors).
/// </summary>
public sealed class FaceBatch : IDisposable
{
    internal FaceBatch(Tensor images, Tensor keypoints, IReadOnlyList<SampleInfo> infos, int width, int height)
    {
        Images = images;
        Keypoints = keypoints;
        Infos = infos;
        Width = width;
        Height = height;
    }

    /// <summary>Images, float32 [B, 3, H, W].</summary>
    public Tensor Images { get; }

    /// <summary>Keypoints, float32 [B, 2K], normalised to [-1, 1] in the batch's image frame.</summary>
    public Tensor Keypoints { get; }

    /// <summary>Sample metadata, in batch order.</summary>
    public IReadOnlyList<SampleInfo> Infos { get; }

    /// <summary>Image width of the batch.</summary>
    public int Width { get; }

    /// <summary>Image height of the batch.</summary>
    public int Height { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Infos.Count;

    /// <inheritdoc/>
    public void Dispose()
    {
        Images.Dispose();
        Keypoints.Dispose();
    }
}

/// <summary>
/// Loads batches with parallel decoding and transforms and a bounded prefetch queue. Reproducible: the order of
/// an epoch depends on (seed, epoch) (or on the <see cref="BatchLoaderOptions.Sampler"/>), and each sample's random
/// transform parameters on (seed, epoch, index, repeat), whatever the number of workers and in every process.
/// </summary>
public sealed class FaceBatchLoader
{
    private readonly IFaceDataset dataset;
    private readonly IKeypointTransform? transform;
    private readonly BatchLoaderOptions options;
    private readonly ConcurrentDictionary<string, bool> skipped = new(StringComparer.Ordinal);

    /// <summary>Creates the loader.</summary>
    /// <param name="dataset">Samples to load (wrap in <see cref="CachedFaceDataset"/> to skip decoding after the first epoch).</param>
    /// <param name="transform">Transform applied to each sample; every output must have the same size.</param>
    /// <param name="options">Batching options.</param>
    /// <exception cref="System.ComponentModel.DataAnnotations.ValidationException">An option is out of range.</exception>
    public FaceBatchLoader(IFaceDataset dataset, IKeypointTransform? transform, BatchLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Runtime.TorchRuntime.EnsureInitialized();
        this.dataset = dataset;
        this.transform = transform;
        this.options = options;
    }

    /// <summary>Number of batches in one epoch.</summary>
    public int BatchesPerEpoch => options.DropLast ? Drawn / options.BatchSize : (Drawn + options.BatchSize - 1) / options.BatchSize;

    /// <summary>Number of samples in one epoch.</summary>
    public int SamplesPerEpoch => options.DropLast ? BatchesPerEpoch * options.BatchSize : Drawn;

    private int Drawn => options.Sampler?.SamplesPerEpoch ?? dataset.Count;

    /// <summary>The sample order of an epoch.</summary>
    public int[] Order(int epoch) =>
        options.Sampler?.Order(epoch)
        ?? (options.Shuffle ? DatasetSplits.Shuffled(Enumerable.Range(0, dataset.Count), StableSeed.Of(options.Seed, epoch)) : [.. Enumerable.Range(0, dataset.Count)]);

    /// <summary>Prepares one sample exactly as the loader does in <paramref name="epoch"/>.</summary>
    /// <param name="index">The sample.</param>
    /// <param name="epoch">The epoch.</param>
    /// <param name="repeat">How many times the sample came earlier in the epoch (a sampler may repeat it; each repeat gets its own random parameters).</param>
    /// <returns>The transformed sample.</returns>
    public FaceSample Prepare(int index, int epoch, int repeat = 0)
    {
        var sample = dataset.Load(index);
        return transform is null ? sample : transform.Apply(sample, new Random(StableSeed.Of(options.Seed, epoch, index, repeat, 0x5eed)));
    }

    /// <summary>
    /// Enumerates the batches of an epoch. Tensors are created on the consumer's thread, so the caller's dispose
    /// scope owns them. Stopping early cancels the workers.
    /// </summary>
    /// <exception cref="ImageDecodeException">
    /// An image could not be read or decoded (rethrown from the worker) under <see cref="BadFilePolicy.Fail"/>.
    /// </exception>
    public IEnumerable<FaceBatch> Epoch(int epoch, CancellationToken cancellationToken = default)
    {
        int[] order = Order(epoch);
        var seen = new Dictionary<int, int>();
        var draws = order.Select(index => (Index: index, Repeat: seen[index] = seen.GetValueOrDefault(index, -1) + 1)).ToArray();
        var chunks = draws.Chunk(options.BatchSize).Where(c => !options.DropLast || c.Length == options.BatchSize).ToArray();
        using var queue = new BlockingCollection<PreparedBatch>(options.Prefetch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() => Produce(chunks, epoch, queue, stop.Token), CancellationToken.None);
        try
        {
            foreach (var prepared in queue.GetConsumingEnumerable(stop.Token))
            {
                yield return prepared.ToBatch();
            }

            producer.GetAwaiter().GetResult();
        }
        finally
        {
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
                // Cancelled, or failed: a failure was already thrown, unwrapped, by GetResult above (or the consumer
                // stopped early and no longer wants the batches); a second, wrapped copy would replace it.
            }
        }
    }

    private void Produce((int Index, int Repeat)[][] chunks, int epoch, BlockingCollection<PreparedBatch> queue, CancellationToken token)
    {
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Workers, CancellationToken = token };
            bool skip = options.BadFiles == BadFilePolicy.Skip;
            foreach (var chunk in chunks)
            {
                var samples = new FaceSample?[chunk.Length];
                var failures = new ImageDecodeException?[chunk.Length];
                try
                {
                    Parallel.For(0, chunk.Length, parallel, i =>
                    {
                        try
                        {
                            samples[i] = Prepare(chunk[i].Index, epoch, chunk[i].Repeat);
                        }
                        catch (ImageDecodeException e) when (skip)
                        {
                            failures[i] = e;
                        }
                    });
                }
                catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) is { } first)
                {
                    // The documented exception (an ImageDecodeException naming the file), not Parallel's wrapper.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
                }

                // Reported in batch order, once per file, whichever worker met it first.
                foreach (var failure in failures.OfType<ImageDecodeException>())
                {
                    if (skipped.TryAdd(failure.FilePath ?? failure.Message, true))
                    {
                        options.OnImageSkipped?.Invoke(failure);
                    }
                }

                FaceSample[] kept = [.. samples.OfType<FaceSample>()];
                if (kept.Length > 0)
                {
                    queue.Add(PreparedBatch.From(kept, options.Normalization, dataset.Scheme), token);
                }
            }
        }
        finally
        {
            queue.CompleteAdding();
        }
    }

    /// <summary>Converts samples of one size into float arrays laid out for tensors.</summary>
    internal sealed record PreparedBatch(float[] Images, float[] Keypoints, SampleInfo[] Infos, int Width, int Height, int Values)
    {
        public static PreparedBatch From(FaceSample[] samples, NormalizationSpec normalization, LandmarkScheme scheme)
        {
            int w = samples[0].Image.Width, h = samples[0].Image.Height, plane = w * h;
            var images = new float[samples.Length * 3 * plane];
            var keypoints = new float[samples.Length * scheme.ValueCount];
            for (int b = 0; b < samples.Length; b++)
            {
                var sample = samples[b];
                if (sample.Image.Width != w || sample.Image.Height != h)
                {
                    throw new InvalidOperationException(
                        $"Sample '{sample.Info.Name}' is {sample.Image.Width}x{sample.Image.Height} but the batch is {w}x{h}; add a Rescale transform.");
                }

                if (sample.Keypoints.Length != scheme.ValueCount)
                {
                    throw new InvalidOperationException($"Sample '{sample.Info.Name}' has {sample.Keypoints.Length} keypoint values; {scheme} needs {scheme.ValueCount}.");
                }

                normalization.WriteChannels(sample.Image, images.AsSpan(b * 3 * plane, 3 * plane));
                KeypointNormalization.Normalize(sample.Keypoints, w, h).CopyTo(keypoints, b * scheme.ValueCount);
            }

            return new PreparedBatch(images, keypoints, [.. samples.Select(s => s.Info)], w, h, scheme.ValueCount);
        }

        public FaceBatch ToBatch()
        {
            int n = Infos.Length;
            var imageTensor = torch.tensor(Images, [n, 3, Height, Width]);
            var keypointTensor = torch.tensor(Keypoints, [n, Values]);
            return new FaceBatch(imageTensor, keypointTensor, Infos, Width, Height);
        }
    }
}
