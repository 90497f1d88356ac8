using FacialKeypoints.Core;
using FacialKeypoints.Emotion;

namespace FacialKeypoints.EmotionFit.Fitting;

/// <summary>Settings of a multinomial logistic regression fit.</summary>
internal sealed class SoftmaxRegressionOptions
{
    /// <summary>L2 penalty on the weights (not the biases), per unit of weighted mean loss. Default 0.01.</summary>
    public double L2 { get; set; } = 0.01;

    /// <summary>
    /// Class weights are (n / (k * n_c))^power: 0 leaves the classes as they are, 1 balances them, 0.5 is halfway
    /// (on a log scale). Default 0.5.
    /// </summary>
    public double ClassWeightPower { get; set; } = 0.5;

    /// <summary>Iteration cap of the L-BFGS optimiser. Default 500.</summary>
    public int MaxIterations { get; set; } = 500;

    /// <summary>Stop when the gradient's largest component falls below this. Default 1e-5.</summary>
    public double GradientTolerance { get; set; } = 1e-5;

    /// <summary>Optional per-feature multipliers applied after standardisation (a larger value lets a feature count more under the same penalty).</summary>
    public IReadOnlyList<float>? FeatureWeights { get; set; }
}

/// <summary>
/// Multinomial logistic regression with class weights and an L2 penalty on standardised features, fitted by
/// L-BFGS. The objective is convex, so the fit is deterministic and needs no learning rate.
/// </summary>
internal static class SoftmaxRegression
{
    /// <summary>Fits a model.</summary>
    /// <param name="x">Feature rows, all of one length.</param>
    /// <param name="y">Class index of each row, in 0..classCount-1.</param>
    /// <param name="classCount">The number of classes.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ArgumentException">Empty or ragged data, or a class index out of range.</exception>
    public static SoftmaxRegressionModel Fit(IReadOnlyList<float[]> x, IReadOnlyList<int> y, int classCount, SoftmaxRegressionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        options ??= new SoftmaxRegressionOptions();
        int n = x.Count;
        if (n == 0 || n != y.Count)
        {
            throw new ArgumentException($"Need one label per row and at least one row; got {n} rows and {y.Count} labels.");
        }

        int d = x[0].Length;
        if (x.Any(r => r.Length != d))
        {
            throw new ArgumentException("Feature rows differ in length.", nameof(x));
        }

        if (y.Any(c => c < 0 || c >= classCount))
        {
            throw new ArgumentException($"A label is outside 0..{classCount - 1}.", nameof(y));
        }

        if (options.FeatureWeights is { } fw && fw.Count != d)
        {
            throw new ArgumentException($"FeatureWeights has {fw.Count} entries for {d} features.", nameof(options));
        }

        // Standardise.
        var means = new float[d];
        var scales = new float[d];
        for (int j = 0; j < d; j++)
        {
            double sum = 0, sq = 0;
            for (int i = 0; i < n; i++)
            {
                sum += x[i][j];
            }

            double mean = sum / n;
            for (int i = 0; i < n; i++)
            {
                double t = x[i][j] - mean;
                sq += t * t;
            }

            double std = Math.Sqrt(sq / n);
            means[j] = (float)mean;
            scales[j] = (float)((std > 1e-8 ? 1 / std : 0) * (options.FeatureWeights?[j] ?? 1f));
        }

        var z = new double[n][];
        for (int i = 0; i < n; i++)
        {
            z[i] = new double[d];
            for (int j = 0; j < d; j++)
            {
                z[i][j] = (x[i][j] - means[j]) * scales[j];
            }
        }

        // Class weights, normalised to a weighted mean.
        var counts = new int[classCount];
        foreach (int c in y)
        {
            counts[c]++;
        }

        var classWeight = new double[classCount];
        int present = counts.Count(c => c > 0);
        for (int c = 0; c < classCount; c++)
        {
            classWeight[c] = counts[c] == 0 ? 0 : Math.Pow((double)n / (present * counts[c]), options.ClassWeightPower);
        }

        var rowWeight = new double[n];
        double totalWeight = 0;
        for (int i = 0; i < n; i++)
        {
            rowWeight[i] = classWeight[y[i]];
            totalWeight += rowWeight[i];
        }

        for (int i = 0; i < n; i++)
        {
            rowWeight[i] /= totalWeight;
        }

        int stride = d + 1;
        double l2 = options.L2;
        double Objective(double[] theta, double[] gradient)
        {
            Array.Clear(gradient);
            double loss = 0;
            var logits = new double[classCount];
            for (int i = 0; i < n; i++)
            {
                var zi = z[i];
                for (int c = 0; c < classCount; c++)
                {
                    int o = c * stride;
                    double s = theta[o + d];
                    for (int j = 0; j < d; j++)
                    {
                        s += theta[o + j] * zi[j];
                    }

                    logits[c] = s;
                }

                var p = SoftmaxRegressionModel.Softmax(logits);
                loss -= rowWeight[i] * Math.Log(Math.Max(p[y[i]], 1e-300));
                for (int c = 0; c < classCount; c++)
                {
                    double g = rowWeight[i] * (p[c] - (c == y[i] ? 1 : 0));
                    if (g == 0)
                    {
                        continue;
                    }

                    int o = c * stride;
                    for (int j = 0; j < d; j++)
                    {
                        gradient[o + j] += g * zi[j];
                    }

                    gradient[o + d] += g;
                }
            }

            for (int c = 0; c < classCount; c++)
            {
                int o = c * stride;
                for (int j = 0; j < d; j++)
                {
                    loss += 0.5 * l2 * theta[o + j] * theta[o + j];
                    gradient[o + j] += l2 * theta[o + j];
                }
            }

            return loss;
        }

        var solution = Lbfgs.Minimize(Objective, new double[classCount * stride], options.MaxIterations, options.GradientTolerance);
        var weights = new float[classCount][];
        var biases = new float[classCount];
        for (int c = 0; c < classCount; c++)
        {
            weights[c] = [.. solution.AsSpan(c * stride, d).ToArray().Select(v => (float)v)];
            biases[c] = (float)solution[(c * stride) + d];
        }

        return new SoftmaxRegressionModel(means, scales, weights, biases);
    }
}

/// <summary>Limited-memory BFGS with a backtracking (Armijo) line search.</summary>
internal static class Lbfgs
{
    public static double[] Minimize(Func<double[], double[], double> objective, double[] start, int maxIterations, double tolerance, int memory = 10)
    {
        int m = start.Length;
        var x = (double[])start.Clone();
        var g = new double[m];
        double f = objective(x, g);
        var sHistory = new List<double[]>();
        var yHistory = new List<double[]>();
        var rhoHistory = new List<double>();
        var xNew = new double[m];
        var gNew = new double[m];
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            if (g.Max(Math.Abs) < tolerance)
            {
                break;
            }

            // Two-loop recursion: direction = -H g.
            var q = (double[])g.Clone();
            int k = sHistory.Count;
            var alpha = new double[k];
            for (int i = k - 1; i >= 0; i--)
            {
                alpha[i] = rhoHistory[i] * Dot(sHistory[i], q);
                Axpy(-alpha[i], yHistory[i], q);
            }

            double gamma = k > 0 ? Dot(sHistory[k - 1], yHistory[k - 1]) / Dot(yHistory[k - 1], yHistory[k - 1]) : 1.0 / Math.Max(1, Math.Sqrt(Dot(g, g)));
            for (int i = 0; i < m; i++)
            {
                q[i] *= gamma;
            }

            for (int i = 0; i < k; i++)
            {
                double beta = rhoHistory[i] * Dot(yHistory[i], q);
                Axpy(alpha[i] - beta, sHistory[i], q);
            }

            double slope = -Dot(g, q);
            if (slope >= 0)
            {
                // Not a descent direction: restart with steepest descent.
                sHistory.Clear();
                yHistory.Clear();
                rhoHistory.Clear();
                q = (double[])g.Clone();
                slope = -Dot(g, q);
            }

            double step = 1;
            double fNew = 0;
            bool accepted = false;
            for (int tries = 0; tries < 40; tries++)
            {
                for (int i = 0; i < m; i++)
                {
                    xNew[i] = x[i] - (step * q[i]);
                }

                fNew = objective(xNew, gNew);
                if (fNew <= f + (1e-4 * step * slope))
                {
                    accepted = true;
                    break;
                }

                step *= 0.5;
            }

            if (!accepted)
            {
                break;
            }

            var s = new double[m];
            var yv = new double[m];
            for (int i = 0; i < m; i++)
            {
                s[i] = xNew[i] - x[i];
                yv[i] = gNew[i] - g[i];
            }

            double sy = Dot(s, yv);
            if (sy > 1e-12)
            {
                if (sHistory.Count == memory)
                {
                    sHistory.RemoveAt(0);
                    yHistory.RemoveAt(0);
                    rhoHistory.RemoveAt(0);
                }

                sHistory.Add(s);
                yHistory.Add(yv);
                rhoHistory.Add(1 / sy);
            }

            bool converged = Math.Abs(f - fNew) < 1e-12 * Math.Max(1, Math.Abs(f));
            Array.Copy(xNew, x, m);
            Array.Copy(gNew, g, m);
            f = fNew;
            if (converged)
            {
                break;
            }
        }

        return x;
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }
}
