using FacialKeypoints.Data;

namespace FacialKeypoints.Training.Metrics;

/// <summary>Errors of one image's prediction.</summary>
/// <param name="Name">The image name.</param>
/// <param name="MeanPointError224">Mean Euclidean point error in the 224 x 224 frame.</param>
/// <param name="Nme">Mean point error over the ground-truth normalising distance, in the 224 x 224 frame.</param>
/// <param name="NmeOriginal">The same in the original image's pixels.</param>
/// <param name="MeanAbsoluteError224">Mean absolute coordinate error in the 224 x 224 frame.</param>
public sealed record ImageError(string Name, double MeanPointError224, double Nme, double NmeOriginal, double MeanAbsoluteError224);

/// <summary>Dataset-level metrics, named as in the reference's Table 1.</summary>
/// <param name="Images">Images scored.</param>
/// <param name="Mae224">Mean absolute coordinate error, 224 x 224 frame.</param>
/// <param name="Rmse224">Root mean squared coordinate error, 224 x 224 frame.</param>
/// <param name="Mpe224">Mean Euclidean point error, 224 x 224 frame.</param>
/// <param name="Nme">Mean over images of the normalised mean point error (224 x 224 frame).</param>
/// <param name="NmeOriginal">The same in original pixels.</param>
/// <param name="SmoothL1">Smooth L1 (beta 1) between keypoints normalised to [-1, 1] in the 224 x 224 frame.</param>
/// <param name="FailureRate008">Share of images with NME above 0.08.</param>
/// <param name="FailureRate010">Share of images with NME above 0.10.</param>
public sealed record MetricsSummary(
    int Images, double Mae224, double Rmse224, double Mpe224, double Nme, double NmeOriginal, double SmoothL1, double FailureRate008, double FailureRate010)
{
    /// <summary>
    /// The metrics under the keys of <c>metrics.json</c> (<c>images</c>, <c>mae224</c>, <c>rmse224</c>, <c>mpe224</c>,
    /// <c>nme</c>, <c>nme_orig</c>, <c>smooth_l1</c>, <c>failure_rate_008</c>, <c>failure_rate_010</c>).
    /// </summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["images"] = Images,
        ["mae224"] = Mae224,
        ["rmse224"] = Rmse224,
        ["mpe224"] = Mpe224,
        ["nme"] = Nme,
        ["nme_orig"] = NmeOriginal,
        ["smooth_l1"] = SmoothL1,
        ["failure_rate_008"] = FailureRate008,
        ["failure_rate_010"] = FailureRate010,
    };
}

/// <summary>
/// Keypoint metrics as pure functions. The 224 x 224 frame is the reference's: x * 224 / width and
/// y * 224 / height of the original image.
/// </summary>
public static class KeypointMetrics
{
    /// <summary>Side of the reference frame.</summary>
    public const int ReferenceFrame = 224;

    /// <summary>Maps original-pixel keypoints to the 224 x 224 frame.</summary>
    public static float[] ToReferenceFrame(ReadOnlySpan<float> keypoints, int width, int height)
    {
        var result = new float[keypoints.Length];
        float sx = (float)ReferenceFrame / width, sy = (float)ReferenceFrame / height;
        for (int i = 0; i + 1 < keypoints.Length; i += 2)
        {
            result[i] = keypoints[i] * sx;
            result[i + 1] = keypoints[i + 1] * sy;
        }

        return result;
    }

    /// <summary>Mean Euclidean distance between corresponding points.</summary>
    public static double MeanPointError(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        CheckLengths(predicted, truth);
        double sum = 0;
        for (int i = 0; i + 1 < truth.Length; i += 2)
        {
            double dx = predicted[i] - truth[i], dy = predicted[i + 1] - truth[i + 1];
            sum += Math.Sqrt((dx * dx) + (dy * dy));
        }

        return sum / (truth.Length / 2);
    }

    /// <summary>Mean absolute coordinate error.</summary>
    public static double MeanAbsoluteError(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        CheckLengths(predicted, truth);
        double sum = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            sum += Math.Abs(predicted[i] - truth[i]);
        }

        return sum / truth.Length;
    }

    /// <summary>
    /// Normalised mean error: mean point error over the ground-truth distance between the scheme's
    /// normalisation pair. A zero distance gives <see cref="double.NaN"/> rather than infinity.
    /// </summary>
    public static double Nme(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth, LandmarkScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        double distance = scheme.NormalisingDistance(truth);
        return distance > 1e-6 ? MeanPointError(predicted, truth) / distance : double.NaN;
    }

    /// <summary>Smooth L1 (Huber with the given beta), averaged over values.</summary>
    public static double SmoothL1(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth, double beta = 1.0)
    {
        CheckLengths(predicted, truth);
        double sum = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            double d = Math.Abs(predicted[i] - truth[i]);
            sum += d < beta ? 0.5 * d * d / beta : d - (0.5 * beta);
        }

        return sum / truth.Length;
    }

    private static void CheckLengths(ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth)
    {
        if (predicted.Length != truth.Length || truth.Length == 0 || truth.Length % 2 != 0)
        {
            throw new ArgumentException($"Keypoint vectors must have the same even, non-zero length; got {predicted.Length} and {truth.Length}.");
        }
    }
}

/// <summary>Accumulates per-image errors and summarises them (<see cref="Update"/> / <see cref="Compute"/>).</summary>
public sealed class MetricAccumulator
{
    private readonly LandmarkScheme scheme;
    private readonly List<ImageError> errors = [];
    private double absoluteSum;
    private double squaredSum;
    private double smoothL1Sum;
    private long values;

    /// <summary>Creates an empty accumulator.</summary>
    public MetricAccumulator(LandmarkScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        this.scheme = scheme;
    }

    /// <summary>Per-image errors so far, in update order.</summary>
    public IReadOnlyList<ImageError> Errors => errors;

    /// <summary>Adds one image: predicted and true keypoints in its original pixels.</summary>
    public ImageError Update(string name, ReadOnlySpan<float> predicted, ReadOnlySpan<float> truth, int width, int height)
    {
        var p = KeypointMetrics.ToReferenceFrame(predicted, width, height);
        var t = KeypointMetrics.ToReferenceFrame(truth, width, height);
        for (int i = 0; i < t.Length; i++)
        {
            double d = p[i] - t[i];
            absoluteSum += Math.Abs(d);
            squaredSum += d * d;
        }

        // Normalised to [-1, 1] across the 224 frame, as the reference's loss saw it.
        const float half = KeypointMetrics.ReferenceFrame / 2f;
        smoothL1Sum += KeypointMetrics.SmoothL1(p.Select(v => v / half).ToArray(), t.Select(v => v / half).ToArray()) * t.Length;
        values += t.Length;

        var error = new ImageError(
            name,
            KeypointMetrics.MeanPointError(p, t),
            KeypointMetrics.Nme(p, t, scheme),
            KeypointMetrics.Nme(predicted, truth, scheme),
            KeypointMetrics.MeanAbsoluteError(p, t));
        errors.Add(error);
        return error;
    }

    /// <summary>The summary over every image added.</summary>
    /// <exception cref="InvalidOperationException">No image was added.</exception>
    public MetricsSummary Compute()
    {
        if (errors.Count == 0)
        {
            throw new InvalidOperationException("No images were scored.");
        }

        var nme = errors.Select(e => e.Nme).Where(double.IsFinite).ToArray();
        return new MetricsSummary(
            errors.Count,
            absoluteSum / values,
            Math.Sqrt(squaredSum / values),
            errors.Average(e => e.MeanPointError224),
            nme.Average(),
            errors.Select(e => e.NmeOriginal).Where(double.IsFinite).Average(),
            smoothL1Sum / values,
            (double)nme.Count(v => v > 0.08) / nme.Length,
            (double)nme.Count(v => v > 0.10) / nme.Length);
    }
}
