using FacialKeypoints.Data.Transforms;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Export;

/// <summary>The float range an activation's uint8 values cover; it always contains 0.</summary>
internal readonly record struct ValueRange(float Min, float Max)
{
    /// <summary>uint8 asymmetric parameters: <c>real = (q - zeroPoint) * scale</c>, q in 0..255.</summary>
    public (float Scale, byte ZeroPoint) Uint8Parameters()
    {
        float lo = Math.Min(0f, Min), hi = Math.Max(0f, Max);
        float scale = hi > lo ? (hi - lo) / 255f : 1f;
        double zero = Math.Round(-lo / scale);
        return (scale, (byte)Math.Clamp(zero, 0, 255));
    }
}

/// <summary>
/// Static calibration: runs the float graph (<see cref="GraphEvaluator"/>) on representative images and records,
/// for every value, the range its int8 form will cover: the minimum and maximum, or the percentiles that clip the
/// rarest extremes (from a 2048-bin histogram over the min-max range, a second pass).
/// </summary>
internal static class Calibration
{
    private const int Bins = 2048;
    private const int BatchSize = 8;

    /// <summary>The images resized to the input (each axis stretched, as the predictor does) and normalised.</summary>
    public static float[] Prepare(IReadOnlyList<RgbImage> images, int height, int width, NormalizationSpec normalization)
    {
        int plane = 3 * height * width;
        var pixels = new float[images.Count * plane];
        Parallel.For(0, images.Count, i =>
        {
            var image = images[i];
            var resized = image.Width == width && image.Height == height
                ? image
                : ImageWarp.Warp(image, width, height, AffineMatrix.Scaling((float)width / image.Width, (float)height / image.Height));
            normalization.WriteChannels(resized, pixels.AsSpan(i * plane, plane));
        });
        return pixels;
    }

    /// <summary>The range of every value of the graph over the calibration images.</summary>
    /// <param name="graph">The float graph.</param>
    /// <param name="images">Normalised images, <c>[N, 3, H, W]</c> flattened.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="percentile">100 for min/max; less to clip the tails to that share of the values.</param>
    public static Dictionary<string, ValueRange> Ranges(ExportGraph graph, float[] images, int height, int width, double percentile)
    {
        int plane = 3 * height * width, count = images.Length / plane;
        using var evaluator = new GraphEvaluator(graph);
        var min = new Dictionary<string, float>(StringComparer.Ordinal);
        var max = new Dictionary<string, float>(StringComparer.Ordinal);
        ForEachBatch(evaluator, images, count, height, width, (name, t) =>
        {
            float lo = t.min().item<float>(), hi = t.max().item<float>();
            min[name] = min.TryGetValue(name, out float m) ? Math.Min(m, lo) : lo;
            max[name] = max.TryGetValue(name, out float n) ? Math.Max(n, hi) : hi;
        });
        if (percentile >= 100)
        {
            return min.Keys.ToDictionary(k => k, k => new ValueRange(min[k], max[k]), StringComparer.Ordinal);
        }

        var histograms = new Dictionary<string, double[]>(StringComparer.Ordinal);
        ForEachBatch(evaluator, images, count, height, width, (name, t) =>
        {
            if (!(max[name] > min[name]))
            {
                return;
            }

            // histc takes integer bounds here: scale the values to [0, Bins] first.
            using var scaled = (t - min[name]) * (Bins / (double)(max[name] - min[name]));
            using var h = scaled.histc(Bins, 0, Bins);
            using var d = h.to_type(ScalarType.Float64);
            var counts = d.data<double>().ToArray();
            if (histograms.TryGetValue(name, out var total))
            {
                for (int i = 0; i < Bins; i++)
                {
                    total[i] += counts[i];
                }
            }
            else
            {
                histograms[name] = counts;
            }
        });

        var ranges = new Dictionary<string, ValueRange>(StringComparer.Ordinal);
        double tail = (100 - percentile) / 100;
        foreach (string name in min.Keys)
        {
            if (!histograms.TryGetValue(name, out var h))
            {
                ranges[name] = new ValueRange(min[name], max[name]);
                continue;
            }

            double sum = h.Sum(), width1 = (max[name] - min[name]) / (double)Bins;
            int lo = 0, hi = Bins - 1;
            for (double seen = 0; lo < Bins - 1 && seen + h[lo] <= tail * sum; lo++)
            {
                seen += h[lo];
            }

            for (double seen = 0; hi > 0 && seen + h[hi] <= tail * sum; hi--)
            {
                seen += h[hi];
            }

            ranges[name] = new ValueRange((float)(min[name] + (lo * width1)), (float)(min[name] + ((hi + 1) * width1)));
        }

        return ranges;
    }

    private static void ForEachBatch(GraphEvaluator evaluator, float[] images, int count, int height, int width, Action<string, Tensor> observe)
    {
        int plane = 3 * height * width;
        for (int start = 0; start < count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, count - start);
            using var scope = NewDisposeScope();
            var batch = tensor(images.AsSpan(start * plane, n * plane).ToArray(), [n, 3, height, width]);
            evaluator.Run(batch, observe);
        }
    }
}
