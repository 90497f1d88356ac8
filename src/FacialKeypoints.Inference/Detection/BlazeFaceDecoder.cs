namespace FacialKeypoints.Inference.Detection;

/// <summary>A raw detection: in the detector input's unit square (0..1 across the letterboxed input) when decoded, in image pixels once mapped back.</summary>
/// <param name="CenterX">Box centre x.</param>
/// <param name="CenterY">Box centre y.</param>
/// <param name="Width">Box width.</param>
/// <param name="Height">Box height.</param>
/// <param name="Score">Sigmoid of the logit.</param>
/// <param name="Keypoints">Six (x, y) pairs.</param>
internal sealed record UnitDetection(float CenterX, float CenterY, float Width, float Height, float Score, float[] Keypoints)
{
    public float Left => CenterX - (Width / 2);

    public float Top => CenterY - (Height / 2);

    public float IntersectionOverUnion(UnitDetection other) =>
        new FaceBox(Left, Top, Width, Height).IntersectionOverUnion(new FaceBox(other.Left, other.Top, other.Width, other.Height));
}

/// <summary>
/// BlazeFace's output decoding as pure functions: the anchor grid (16x16 cells with 2 anchors and 8x8 cells with 6,
/// 896 in all, for both the 128 and the 256 px model), box and point decoding relative to the anchors, and
/// MediaPipe's weighted non-maximum suppression (overlapping boxes are blended by score, not dropped).
/// </summary>
internal static class BlazeFaceDecoder
{
    /// <summary>Values per anchor in the regression output: box (x, y, w, h) and six points.</summary>
    public const int ValuesPerAnchor = 16;

    /// <summary>The overlap above which MediaPipe blends two detections into one.</summary>
    public const float BlendOverlap = 0.3f;

    /// <summary>The anchor centres of one output layer in unit coordinates, in the model's output order.</summary>
    public static (float X, float Y)[] Anchors(int cellsPerRow, int anchorsPerCell)
    {
        var anchors = new (float, float)[cellsPerRow * cellsPerRow * anchorsPerCell];
        int i = 0;
        for (int y = 0; y < cellsPerRow; y++)
        {
            for (int x = 0; x < cellsPerRow; x++)
            {
                for (int a = 0; a < anchorsPerCell; a++)
                {
                    anchors[i++] = ((x + 0.5f) / cellsPerRow, (y + 0.5f) / cellsPerRow);
                }
            }
        }

        return anchors;
    }

    /// <summary>Decodes one output layer's scores (logits) and regressions, keeping detections above <paramref name="minScore"/>.</summary>
    public static void Decode(
        ReadOnlySpan<float> logits,
        ReadOnlySpan<float> regressions,
        (float X, float Y)[] anchors,
        int inputSize,
        float minScore,
        List<UnitDetection> into)
    {
        if (logits.Length != anchors.Length || regressions.Length != anchors.Length * ValuesPerAnchor)
        {
            throw new ArgumentException(
                $"Expected {anchors.Length} scores and {anchors.Length * ValuesPerAnchor} regression values, got {logits.Length} and {regressions.Length}.");
        }

        float scale = 1f / inputSize;
        for (int i = 0; i < anchors.Length; i++)
        {
            float score = 1f / (1f + MathF.Exp(-logits[i]));
            if (!(score >= minScore))
            {
                continue;
            }

            var r = regressions.Slice(i * ValuesPerAnchor, ValuesPerAnchor);
            var (ax, ay) = anchors[i];
            var points = new float[12];
            for (int k = 0; k < 6; k++)
            {
                points[2 * k] = ax + (r[4 + (2 * k)] * scale);
                points[(2 * k) + 1] = ay + (r[5 + (2 * k)] * scale);
            }

            into.Add(new UnitDetection(ax + (r[0] * scale), ay + (r[1] * scale), r[2] * scale, r[3] * scale, score, points));
        }
    }

    /// <summary>
    /// Weighted non-maximum suppression: takes detections from the highest score down; each absorbs the remaining
    /// ones that overlap it by more than <paramref name="overlap"/> (intersection over union), and the result is their
    /// score-weighted mean box and points with the highest score. O(n^2) in the candidates above the score threshold.
    /// </summary>
    public static List<UnitDetection> WeightedNonMaxSuppression(IEnumerable<UnitDetection> detections, float overlap = BlendOverlap)
    {
        var remaining = detections.OrderByDescending(d => d.Score).ToList();
        var result = new List<UnitDetection>();
        while (remaining.Count > 0)
        {
            var best = remaining[0];
            var group = remaining.Where(d => d.IntersectionOverUnion(best) > overlap || ReferenceEquals(d, best)).ToList();
            remaining.RemoveAll(group.Contains);
            float total = group.Sum(d => d.Score);
            float Mean(Func<UnitDetection, float> value) => group.Sum(d => value(d) * d.Score) / total;
            var points = new float[best.Keypoints.Length];
            for (int k = 0; k < points.Length; k++)
            {
                points[k] = Mean(d => d.Keypoints[k]);
            }

            result.Add(new UnitDetection(Mean(d => d.CenterX), Mean(d => d.CenterY), Mean(d => d.Width), Mean(d => d.Height), best.Score, points));
        }

        return result;
    }
}
