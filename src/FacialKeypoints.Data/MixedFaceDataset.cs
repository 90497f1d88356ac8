using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Data;

/// <summary>Chooses which samples an epoch visits and in what order (indices may repeat).</summary>
public interface IEpochSampler
{
    /// <summary>Samples in every epoch.</summary>
    int SamplesPerEpoch { get; }

    /// <summary>The sample indices of an epoch, in order; the same epoch always gives the same order.</summary>
    /// <param name="epoch">0-based epoch.</param>
    /// <returns><see cref="SamplesPerEpoch"/> indices.</returns>
    int[] Order(int epoch);
}

/// <summary>One source of a <see cref="MixedFaceDataset"/>.</summary>
/// <param name="Dataset">The samples.</param>
/// <param name="Weight">Relative share of every epoch's samples; null on every source gives each its own size's share.</param>
/// <param name="Name">A name for logs.</param>
/// <param name="Augmentation">
/// Transforms for this source's samples only, applied before the augmentation shared by all sources (for example
/// blur and low resolution for sharp photos mixed with video frames); null: none.
/// </param>
public sealed record FaceSource(IFaceDataset Dataset, double? Weight = null, string? Name = null, IKeypointTransform? Augmentation = null);

/// <summary>
/// Several datasets as one: indices run through the sources in order. With weights, <see cref="CreateSampler"/>
/// gives each source its share of every epoch (a small source with a large share repeats, a large one with a
/// small share is subsampled, drawing different samples every epoch); without weights every sample is visited
/// once per epoch.
/// </summary>
public sealed class MixedFaceDataset : IFaceDataset
{
    private readonly FaceSource[] sources;
    private readonly int[] offsets;

    /// <summary>Creates the mix.</summary>
    /// <param name="sources">The sources; all with the same landmark scheme, and weights on all of them or on none.</param>
    /// <exception cref="ArgumentException">No source, an empty source, different schemes, or weights on only some sources or not positive.</exception>
    public MixedFaceDataset(IEnumerable<FaceSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        this.sources = [.. sources];
        if (this.sources.Length == 0 || this.sources.Any(s => s?.Dataset is null))
        {
            throw new ArgumentException("At least one source, each with a dataset, is needed.", nameof(sources));
        }

        Scheme = this.sources[0].Dataset.Scheme;
        if (this.sources.Any(s => s.Dataset.Scheme.Name != Scheme.Name || s.Dataset.Scheme.Count != Scheme.Count))
        {
            throw new ArgumentException($"All sources must use {Scheme}.", nameof(sources));
        }

        if (this.sources.Any(s => s.Dataset.Count == 0))
        {
            throw new ArgumentException($"Source '{this.sources.First(s => s.Dataset.Count == 0).Name}' has no samples.", nameof(sources));
        }

        int weighted = this.sources.Count(s => s.Weight is not null);
        if (weighted != 0 && weighted != this.sources.Length)
        {
            throw new ArgumentException("Give a weight to every source or to none.", nameof(sources));
        }

        if (this.sources.Any(s => s.Weight is { } w && !(double.IsFinite(w) && w > 0)))
        {
            throw new ArgumentException("Weights must be finite and positive.", nameof(sources));
        }

        offsets = new int[this.sources.Length + 1];
        for (int i = 0; i < this.sources.Length; i++)
        {
            offsets[i + 1] = checked(offsets[i] + this.sources[i].Dataset.Count);
        }

        double total = this.sources.Sum(s => s.Weight ?? s.Dataset.Count);
        Shares = [.. this.sources.Select(s => (s.Weight ?? s.Dataset.Count) / total)];
    }

    /// <summary>The sources, in index order.</summary>
    public IReadOnlyList<FaceSource> Sources => sources;

    /// <summary>Each source's share of an epoch's samples (the weights normalised to sum to 1).</summary>
    public IReadOnlyList<double> Shares { get; }

    /// <inheritdoc/>
    public int Count => offsets[^1];

    /// <inheritdoc/>
    public LandmarkScheme Scheme { get; }

    /// <summary>The source and the index within it of sample <paramref name="index"/>.</summary>
    /// <param name="index">The mixed index.</param>
    /// <returns>Source number and index in that source.</returns>
    public (int Source, int Index) Locate(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        int source = Array.BinarySearch(offsets, index);
        source = source >= 0 ? source : ~source - 1;
        while (offsets[source + 1] <= index)
        {
            source++;
        }

        return (source, index - offsets[source]);
    }

    /// <inheritdoc/>
    public SampleInfo GetInfo(int index)
    {
        var (source, inner) = Locate(index);
        return sources[source].Dataset.GetInfo(inner) with { Source = source };
    }

    /// <inheritdoc/>
    public FaceSample Load(int index)
    {
        var (source, inner) = Locate(index);
        var sample = sources[source].Dataset.Load(inner);
        return sample with { Info = sample.Info with { Source = source } };
    }

    /// <summary>
    /// <paramref name="shared"/> preceded, for each sample, by its source's <see cref="FaceSource.Augmentation"/>
    /// (found by <see cref="SampleInfo.Source"/>, which <see cref="Load"/> sets); <paramref name="shared"/> itself
    /// when no source has one.
    /// </summary>
    /// <param name="shared">The augmentation every sample gets.</param>
    /// <returns>The combined transform.</returns>
    public IKeypointTransform WithSourceAugmentation(IKeypointTransform shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        return sources.All(s => s.Augmentation is null) ? shared : new SourceAugmentation(this, shared);
    }

    /// <summary>How many samples each source gives an epoch of <paramref name="samplesPerEpoch"/> (largest remainders).</summary>
    /// <param name="samplesPerEpoch">Epoch length.</param>
    /// <returns>A count per source, summing to <paramref name="samplesPerEpoch"/>.</returns>
    public int[] DrawsPerSource(int samplesPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerEpoch);
        var exact = Shares.Select(s => s * samplesPerEpoch).ToArray();
        var draws = exact.Select(e => (int)Math.Floor(e)).ToArray();
        int missing = samplesPerEpoch - draws.Sum();
        foreach (int i in Enumerable.Range(0, draws.Length).OrderByDescending(i => exact[i] - draws[i]).ThenBy(i => i).Take(missing))
        {
            draws[i]++;
        }

        return draws;
    }

    /// <summary>A sampler that draws every epoch by the sources' shares, reproducibly from <paramref name="seed"/>.</summary>
    /// <param name="seed">Seed of the draws and the order.</param>
    /// <param name="samplesPerEpoch">Epoch length; 0 uses <see cref="Count"/>.</param>
    /// <returns>The sampler.</returns>
    public IEpochSampler CreateSampler(int seed, int samplesPerEpoch = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samplesPerEpoch);
        return new WeightedEpochSampler(this, seed, samplesPerEpoch == 0 ? Count : samplesPerEpoch);
    }

    private sealed class WeightedEpochSampler(MixedFaceDataset mix, int seed, int samples) : IEpochSampler
    {
        private readonly int[] draws = mix.DrawsPerSource(samples);

        public int SamplesPerEpoch => samples;

        public int[] Order(int epoch)
        {
            var chosen = new List<int>(samples);
            for (int s = 0; s < draws.Length; s++)
            {
                int size = mix.sources[s].Dataset.Count;

                // Whole passes over a fresh permutation until the source's draws are met: every sample of a source
                // is used before any repeats, and a subsampled source gives different samples every epoch.
                for (int pass = 0; pass * size < draws[s]; pass++)
                {
                    var permutation = DatasetSplits.Shuffled(Enumerable.Range(0, size), StableSeed.Of(seed, epoch, s, pass));
                    chosen.AddRange(permutation.Take(draws[s] - (pass * size)).Select(i => mix.offsets[s] + i));
                }
            }

            return DatasetSplits.Shuffled(chosen, StableSeed.Of(seed, epoch, -1, 0));
        }
    }
}

/// <summary>A source's own transforms, then the shared ones.</summary>
internal sealed class SourceAugmentation(MixedFaceDataset mix, IKeypointTransform shared) : IKeypointTransform
{
    public bool IsRandom => true;

    public FaceSample Apply(FaceSample sample, Random random)
    {
        var own = mix.Sources[sample.Info.Source].Augmentation;
        return shared.Apply(own is null ? sample : own.Apply(sample, random), random);
    }
}

/// <summary>Seeds made from several numbers, the same in every process (<see cref="HashCode"/> is randomised per process).</summary>
internal static class StableSeed
{
    public static int Of(params ReadOnlySpan<int> parts)
    {
        // FNV-1a over the 32-bit parts, then a final mix.
        uint hash = 2166136261;
        foreach (int part in parts)
        {
            for (int shift = 0; shift < 32; shift += 8)
            {
                hash = (hash ^ (byte)(part >> shift)) * 16777619;
            }
        }

        hash ^= hash >> 15;
        hash *= 0x2c1b3c6d;
        hash ^= hash >> 12;
        return (int)(hash & 0x7fffffff);
    }
}
