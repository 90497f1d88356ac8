namespace FacialKeypoints.Data;

/// <summary>Indices of a training part and a validation part.</summary>
/// <param name="Train">Indices used for fitting, ascending.</param>
/// <param name="Validation">Indices held out, ascending.</param>
public sealed record SplitIndices(IReadOnlyList<int> Train, IReadOnlyList<int> Validation);

/// <summary>
/// Reproducible splits: the same inputs and seed always give the same split, on every machine and runtime.
/// </summary>
public static class DatasetSplits
{
    /// <summary>A seeded random split of <paramref name="count"/> samples (the reference used 10% validation).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is not in [0, 1).</exception>
    public static SplitIndices Random(int count, double validationFraction = 0.1, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckFraction(validationFraction);
        int[] order = Shuffled(Enumerable.Range(0, count), seed);
        int validation = (int)Math.Round(count * validationFraction);
        return Make(order[validation..], order[..validation]);
    }

    /// <summary>
    /// A seeded split that keeps every identity on one side: whole people are held out until about
    /// <paramref name="validationFraction"/> of the samples are.
    /// </summary>
    /// <param name="identities">The identity of each sample, by index.</param>
    /// <param name="validationFraction">Share of samples to hold out.</param>
    /// <param name="seed">Seed of the identity order.</param>
    public static SplitIndices ByIdentity(IReadOnlyList<string> identities, double validationFraction = 0.1, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(identities);
        CheckFraction(validationFraction);
        var groups = GroupByIdentity(identities, seed);
        int target = (int)Math.Round(identities.Count * validationFraction);
        var validation = new List<int>();
        var train = new List<int>();
        foreach (var group in groups)
        {
            (validation.Count < target ? validation : train).AddRange(group);
        }

        return Make(train, validation);
    }

    /// <summary>
    /// Identity-grouped k-fold cross-validation: each identity is in exactly one validation fold; folds are
    /// balanced by sample count (largest groups first, each to the currently smallest fold).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is below 2 or above the number of identities.</exception>
    public static IReadOnlyList<SplitIndices> IdentityKFold(IReadOnlyList<string> identities, int k = 5, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(identities);
        var groups = GroupByIdentity(identities, seed);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, groups.Count);
        var folds = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        foreach (var group in groups.OrderByDescending(g => g.Count))
        {
            folds.MinBy(f => f.Count)!.AddRange(group);
        }

        return [.. folds.Select(fold =>
        {
            var held = fold.ToHashSet();
            return Make(Enumerable.Range(0, identities.Count).Where(i => !held.Contains(i)), fold);
        })];
    }

    /// <summary>The identity of every sample of a dataset, by index.</summary>
    public static IReadOnlyList<string> Identities(IFaceDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return dataset is KeypointDataset keypoints
            ? [.. keypoints.Records.Select(r => SampleInfo.IdentityOf(r.Name))]
            : [.. Enumerable.Range(0, dataset.Count).Select(i => dataset.GetInfo(i).Identity)];
    }

    /// <summary>A Fisher-Yates shuffle with a seeded generator; deterministic across runs and machines.</summary>
    public static int[] Shuffled(IEnumerable<int> items, int seed)
    {
        int[] array = [.. items];
        var random = new System.Random(seed);
        for (int i = array.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (array[i], array[j]) = (array[j], array[i]);
        }

        return array;
    }

    private static List<List<int>> GroupByIdentity(IReadOnlyList<string> identities, int seed)
    {
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < identities.Count; i++)
        {
            if (!groups.TryGetValue(identities[i], out var members))
            {
                groups[identities[i]] = members = [];
            }

            members.Add(i);
        }

        // Order identities by name first so the seed alone decides the shuffle, not dictionary order.
        var names = groups.Keys.Order(StringComparer.Ordinal).ToArray();
        return [.. Shuffled(Enumerable.Range(0, names.Length), seed).Select(i => groups[names[i]])];
    }

    private static SplitIndices Make(IEnumerable<int> train, IEnumerable<int> validation) =>
        new([.. train.Order()], [.. validation.Order()]);

    private static void CheckFraction(double fraction)
    {
        if (!(fraction >= 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must be in [0, 1).");
        }
    }
}
