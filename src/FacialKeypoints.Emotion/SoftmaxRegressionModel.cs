namespace FacialKeypoints.Emotion;

/// <summary>A fitted multinomial logistic regression: p = softmax(W ((x - Means) * Scales) + b).</summary>
/// <param name="Means">Per-feature offsets.</param>
/// <param name="Scales">Per-feature multipliers (1 / standard deviation, times any feature weight).</param>
/// <param name="Weights">One row of weights per class.</param>
/// <param name="Biases">One bias per class.</param>
internal sealed record SoftmaxRegressionModel(float[] Means, float[] Scales, float[][] Weights, float[] Biases)
{
    /// <summary>The number of classes.</summary>
    public int ClassCount => Biases.Length;

    /// <summary>The number of input features.</summary>
    public int FeatureCount => Means.Length;

    /// <summary>Class probabilities of one feature vector.</summary>
    /// <param name="x">The features.</param>
    /// <returns>One probability per class.</returns>
    /// <exception cref="ArgumentException">The vector has the wrong length.</exception>
    public float[] PredictProbabilities(ReadOnlySpan<float> x)
    {
        if (x.Length != FeatureCount)
        {
            throw new ArgumentException($"Expected {FeatureCount} features, got {x.Length}.", nameof(x));
        }

        var logits = new double[ClassCount];
        for (int c = 0; c < ClassCount; c++)
        {
            double s = Biases[c];
            var w = Weights[c];
            for (int j = 0; j < x.Length; j++)
            {
                s += w[j] * (x[j] - Means[j]) * Scales[j];
            }

            logits[c] = s;
        }

        return [.. Softmax(logits).Select(p => (float)p)];
    }

    /// <summary>Softmax of logits, shifted by their maximum so that large values do not overflow.</summary>
    /// <param name="logits">The logits.</param>
    /// <returns>A new array of probabilities summing to 1.</returns>
    public static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var p = new double[logits.Length];
        double sum = 0;
        for (int c = 0; c < logits.Length; c++)
        {
            p[c] = Math.Exp(logits[c] - max);
            sum += p[c];
        }

        for (int c = 0; c < logits.Length; c++)
        {
            p[c] /= sum;
        }

        return p;
    }
}
