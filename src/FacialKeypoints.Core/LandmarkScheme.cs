namespace FacialKeypoints.Core;

/// <summary>
/// A landmark layout as data: how many points, which point each one becomes under a horizontal flip, named
/// regions, named single points, and the pair of points whose distance normalises errors. Code asks the scheme;
/// it never branches on a point count or hard-codes an index.
/// </summary>
public sealed class LandmarkScheme
{
    private readonly int[] flipPermutation;

    /// <summary>Creates and validates a scheme.</summary>
    /// <param name="name">A short name stored in model metadata, for example <c>ibug68</c>.</param>
    /// <param name="flipPermutation">0-based: point <c>i</c> becomes point <c>flipPermutation[i]</c> after a horizontal flip.</param>
    /// <param name="regions">Named index ranges, for example <c>mouth</c> = 48..68.</param>
    /// <param name="normalisationPair">The two points whose distance normalises errors (the outer eye corners).</param>
    /// <param name="points">Named single points, for example <c>right_mouth_corner</c> = 48; none when null. See <see cref="Points"/>.</param>
    /// <exception cref="ArgumentException">The permutation is not an involution over 0..n-1, or an index is out of range.</exception>
    public LandmarkScheme(
        string name,
        IReadOnlyList<int> flipPermutation,
        IReadOnlyDictionary<string, Range> regions,
        (int First, int Second) normalisationPair,
        IReadOnlyDictionary<string, int>? points = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(flipPermutation);
        ArgumentNullException.ThrowIfNull(regions);
        int count = flipPermutation.Count;
        if (count == 0)
        {
            throw new ArgumentException("A scheme needs at least one point.", nameof(flipPermutation));
        }

        for (int i = 0; i < count; i++)
        {
            int j = flipPermutation[i];
            if (j < 0 || j >= count)
            {
                throw new ArgumentException($"Flip permutation maps point {i} to {j}, outside 0..{count - 1}.", nameof(flipPermutation));
            }

            if (flipPermutation[j] != i)
            {
                throw new ArgumentException(
                    $"Flip permutation is not an involution: {i} -> {j} but {j} -> {flipPermutation[j]}.", nameof(flipPermutation));
            }
        }

        foreach (var (region, range) in regions)
        {
            var (offset, length) = range.GetOffsetAndLength(count);
            if (length <= 0 || offset + length > count)
            {
                throw new ArgumentException($"Region '{region}' ({range}) is empty or outside 0..{count - 1}.", nameof(regions));
            }
        }

        foreach (var (point, index) in points ?? new Dictionary<string, int>())
        {
            if ((uint)index >= (uint)count)
            {
                throw new ArgumentException($"Point '{point}' ({index}) is outside 0..{count - 1}.", nameof(points));
            }
        }

        if (normalisationPair.First == normalisationPair.Second
            || (uint)normalisationPair.First >= (uint)count
            || (uint)normalisationPair.Second >= (uint)count)
        {
            throw new ArgumentException($"Normalisation pair {normalisationPair} must be two different points in 0..{count - 1}.", nameof(normalisationPair));
        }

        Name = name;
        this.flipPermutation = [.. flipPermutation];
        Regions = new Dictionary<string, Range>(regions, StringComparer.Ordinal);
        Points = new Dictionary<string, int>(points ?? new Dictionary<string, int>(), StringComparer.Ordinal);
        NormalisationPair = normalisationPair;
    }

    /// <summary>
    /// The 68-point iBUG 300-W / Multi-PIE layout used by the Udacity / YouTube Faces data. Regions: <c>jaw</c>,
    /// <c>right_brow</c>, <c>left_brow</c>, <c>nose</c>, <c>lower_nose</c> (tip and nostrils, 30-35), <c>right_eye</c>,
    /// <c>left_eye</c>, <c>right_upper_eyelid</c>, <c>right_lower_eyelid</c>, <c>left_upper_eyelid</c>,
    /// <c>left_lower_eyelid</c>, <c>outer_lip</c>, <c>inner_lip</c>, <c>mouth</c>. Points (each <c>right_</c> one
    /// also as <c>left_</c>): <c>chin</c>, <c>right_jaw</c> (3, at mouth height), <c>right_brow_middle</c>,
    /// <c>right_brow_inner</c>, <c>nose_base</c> (33), <c>right_nostril</c>, <c>right_eye_outer</c>,
    /// <c>right_eye_inner</c>, <c>right_eye_bottom</c> (41, lower lid by the outer corner),
    /// <c>right_mouth_corner</c>, <c>right_upper_lip_peak</c> (50), <c>right_lower_lip</c> (58),
    /// <c>upper_lip_top</c> (51), <c>lower_lip_bottom</c> (57), <c>upper_lip_inner</c> (62), <c>lower_lip_inner</c> (66).
    /// </summary>
    public static LandmarkScheme Ibug68 { get; } = CreateIbug68();

    /// <summary>The scheme's short name.</summary>
    public string Name { get; }

    /// <summary>Number of landmarks.</summary>
    public int Count => flipPermutation.Length;

    /// <summary>Number of values in a flat keypoint vector (x and y of every point).</summary>
    public int ValueCount => 2 * Count;

    /// <summary>0-based: point <c>i</c> becomes point <c>FlipPermutation[i]</c> after a horizontal flip.</summary>
    public IReadOnlyList<int> FlipPermutation => flipPermutation;

    /// <summary>Named index ranges (jaw, brows, nose, eyes, mouth).</summary>
    public IReadOnlyDictionary<string, Range> Regions { get; }

    /// <summary>
    /// Named single points that measuring code reads (the expression features, for example): mouth corners, lip
    /// centres, chin, eye corners. "right" and "left" are the subject's, as in iBUG (the right eye is on the image's
    /// left), so a flip maps <c>right_x</c> to <c>left_x</c>. <see cref="Ibug68"/> lists the names it defines.
    /// </summary>
    public IReadOnlyDictionary<string, int> Points { get; }

    /// <summary>The two points whose distance normalises errors (for iBUG-68: outer eye corners 36 and 45).</summary>
    public (int First, int Second) NormalisationPair { get; }

    /// <summary>Finds a built-in scheme by name.</summary>
    /// <exception cref="ArgumentException">No built-in scheme has that name.</exception>
    public static LandmarkScheme FromName(string name) => name switch
    {
        "ibug68" => Ibug68,
        _ => throw new ArgumentException($"Unknown landmark scheme '{name}'. Known: ibug68.", nameof(name)),
    };

    /// <summary>The points of a region, as 0-based indices.</summary>
    /// <exception cref="KeyNotFoundException">The scheme has no region of that name.</exception>
    public IEnumerable<int> IndicesOf(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (!Regions.TryGetValue(region, out var range))
        {
            throw new KeyNotFoundException($"The landmark scheme '{Name}' has no region '{region}'. Known: {string.Join(", ", Regions.Keys)}.");
        }

        var (offset, length) = range.GetOffsetAndLength(Count);
        return Enumerable.Range(offset, length);
    }

    /// <summary>The index of a named point (<see cref="Points"/>).</summary>
    /// <exception cref="KeyNotFoundException">The scheme has no point of that name; the message names the scheme.</exception>
    public int PointOf(string point)
    {
        ArgumentNullException.ThrowIfNull(point);
        return Points.TryGetValue(point, out int index)
            ? index
            : throw new KeyNotFoundException($"The landmark scheme '{Name}' has no point '{point}'. Known: {string.Join(", ", Points.Keys)}.");
    }

    /// <summary>The distance between the normalisation pair in a flat (x0, y0, x1, y1, ...) keypoint vector.</summary>
    public double NormalisingDistance(ReadOnlySpan<float> keypoints)
    {
        var (a, b) = NormalisationPair;
        double dx = keypoints[2 * a] - keypoints[2 * b];
        double dy = keypoints[(2 * a) + 1] - keypoints[(2 * b) + 1];
        return Math.Sqrt((dx * dx) + (dy * dy));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Count} points)";

    private static LandmarkScheme CreateIbug68()
    {
        var flip = new int[68];
        void Pair(int a, int b)
        {
            flip[a] = b;
            flip[b] = a;
        }

        for (int i = 0; i < 68; i++)
        {
            flip[i] = i;
        }

        for (int i = 0; i <= 7; i++)
        {
            Pair(i, 16 - i); // jaw, 8 (chin) stays
        }

        for (int i = 0; i < 5; i++)
        {
            Pair(17 + i, 26 - i); // brows
        }

        Pair(31, 35); // lower nose, 33 stays; bridge 27-30 stays
        Pair(32, 34);
        Pair(36, 45); // eyes: outer corners, upper lids, inner corners, lower lids
        Pair(37, 44);
        Pair(38, 43);
        Pair(39, 42);
        Pair(40, 47);
        Pair(41, 46);
        Pair(48, 54); // outer lip, 51 and 57 stay
        Pair(49, 53);
        Pair(50, 52);
        Pair(59, 55);
        Pair(58, 56);
        Pair(60, 64); // inner lip, 62 and 66 stay
        Pair(61, 63);
        Pair(67, 65);

        var regions = new Dictionary<string, Range>
        {
            ["jaw"] = 0..17,
            ["right_brow"] = 17..22,
            ["left_brow"] = 22..27,
            ["nose"] = 27..36,
            ["lower_nose"] = 30..36,
            ["right_eye"] = 36..42,
            ["left_eye"] = 42..48,
            ["right_upper_eyelid"] = 37..39,
            ["right_lower_eyelid"] = 40..42,
            ["left_upper_eyelid"] = 43..45,
            ["left_lower_eyelid"] = 46..48,
            ["outer_lip"] = 48..60,
            ["inner_lip"] = 60..68,
            ["mouth"] = 48..68,
        };
        var points = new Dictionary<string, int>
        {
            ["chin"] = 8,
            ["nose_base"] = 33,
            ["upper_lip_top"] = 51,
            ["lower_lip_bottom"] = 57,
            ["upper_lip_inner"] = 62,
            ["lower_lip_inner"] = 66,
        };
        foreach (var (name, right) in new[]
        {
            ("jaw", 3), ("brow_middle", 19), ("brow_inner", 21), ("nostril", 31), ("eye_outer", 36), ("eye_inner", 39),
            ("eye_bottom", 41), ("mouth_corner", 48), ("upper_lip_peak", 50), ("lower_lip", 58),
        })
        {
            points["right_" + name] = right;
            points["left_" + name] = flip[right];
        }

        return new LandmarkScheme("ibug68", flip, regions, (36, 45), points);
    }
}
