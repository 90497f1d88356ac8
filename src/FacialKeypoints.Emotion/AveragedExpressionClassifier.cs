namespace FacialKeypoints.Emotion;

/// <summary>
/// Averages the class probabilities of several classifiers, with weights, and takes the most probable class. The
/// combined classifier (<see cref="ExpressionClassifierKind.Combined"/>) averages the crop networks and the linear
/// model this way: they read different evidence and make different mistakes (the linear model needs ResNet18.onnx,
/// see <see cref="LearnedExpressionClassifier"/>). Disposes the parts it owns.
/// </summary>
public sealed class AveragedExpressionClassifier : IExpressionClassifier, IDisposable
{
    private readonly (IExpressionClassifier Classifier, float Weight)[] parts;
    private bool disposed;

    /// <summary>Creates the average; it takes ownership of the parts (disposing those that are disposable).</summary>
    /// <param name="parts">The classifiers and their weights (non-negative, normalised to sum to 1).</param>
    /// <param name="name">The <see cref="Name"/>. Default <c>combined</c>.</param>
    /// <exception cref="ArgumentException">No part, a negative or non-finite weight, or weights summing to 0.</exception>
    public AveragedExpressionClassifier(IReadOnlyList<(IExpressionClassifier Classifier, double Weight)> parts, string name = "combined")
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (parts.Count == 0 || parts.Any(p => p.Classifier is null || !double.IsFinite(p.Weight) || p.Weight < 0))
        {
            throw new ArgumentException("Give at least one classifier, each with a finite weight >= 0.", nameof(parts));
        }

        double total = parts.Sum(p => p.Weight);
        if (!(total > 0))
        {
            throw new ArgumentException("The weights sum to 0.", nameof(parts));
        }

        this.parts = [.. parts.Select(p => (p.Classifier, (float)(p.Weight / total)))];
        Name = name;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The classifiers and their normalised weights.</summary>
    public IReadOnlyList<(IExpressionClassifier Classifier, float Weight)> Parts => parts;

    /// <inheritdoc/>
    public ExpressionPrediction Classify(ExpressionInput input) => ClassifyBatch([input])[0];

    /// <inheritdoc/>
    public IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(disposed, this);
        var sums = new float[inputs.Count, ExpressionLabels.Count];
        foreach (var (classifier, weight) in parts)
        {
            var predictions = classifier.ClassifyBatch(inputs);
            for (int i = 0; i < inputs.Count; i++)
            {
                foreach (var (label, p) in predictions[i].Probabilities)
                {
                    sums[i, (int)label] += weight * p;
                }
            }
        }

        var result = new ExpressionPrediction[inputs.Count];
        Span<float> row = stackalloc float[ExpressionLabels.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            for (int c = 0; c < row.Length; c++)
            {
                row[c] = sums[i, c];
            }

            result[i] = ExpressionPrediction.FromProbabilities(row);
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!disposed)
        {
            foreach (var (classifier, _) in parts)
            {
                (classifier as IDisposable)?.Dispose();
            }

            disposed = true;
        }
    }
}
