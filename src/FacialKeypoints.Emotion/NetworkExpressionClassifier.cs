using FacialKeypoints.Emotion.Fitting;

namespace FacialKeypoints.Emotion;

/// <summary>
/// The convolutional expression classifier: an <see cref="ExpressionNetwork"/> reads the eye-aligned crop of each
/// face (the landmarks only place the crop, so it works even when the predicted mouth shape is flat) and, by
/// default, averages its probabilities with those of the mirrored crop. Uses the network shipped with the package
/// unless given another. Needs the image of every face. Thread-safe; dispose it.
/// </summary>
public sealed class NetworkExpressionClassifier : IExpressionClassifier, IDisposable
{
    private readonly Lock gate = new();
    private readonly ExpressionNetwork network;
    private readonly int batchSize;
    private bool disposed;

    /// <summary>Creates the classifier from options: the network file named there, else the shipped network.</summary>
    /// <param name="options">The network file and batch size; defaults when null.</param>
    public NetworkExpressionClassifier(NetworkExpressionOptions? options = null)
    {
        options ??= new NetworkExpressionOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        (network, Spec, Notes) = string.IsNullOrWhiteSpace(options.NetworkPath)
            ? ExpressionNetworkFile.LoadEmbedded()
            : ExpressionNetworkFile.Load(options.NetworkPath);
        batchSize = options.BatchSize;
    }

    /// <summary>Creates the classifier around a network; it takes ownership of it.</summary>
    /// <param name="network">The network.</param>
    /// <param name="spec">Its classes, crop and mirroring.</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    public NetworkExpressionClassifier(ExpressionNetwork network, ExpressionNetworkSpec spec, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (spec.Classes.Count != network.ClassCount || spec.Stages != network.Stages)
        {
            throw new ArgumentException($"The spec ({spec.Stages} stages, {spec.Classes.Count} classes) does not describe the network ({network.Stages} stages, {network.ClassCount} classes).", nameof(spec));
        }

        this.network = network;
        Spec = spec;
        Notes = new Dictionary<string, string>();
        this.batchSize = batchSize;
        network.eval();
    }

    /// <inheritdoc/>
    public string Name => "network";

    /// <summary>The network's classes, crop and mirroring.</summary>
    public ExpressionNetworkSpec Spec { get; }

    /// <summary>Free-form metadata stored with the network (for the shipped one: the fit settings and data).</summary>
    public IReadOnlyDictionary<string, string> Notes { get; }

    /// <inheritdoc/>
    public ExpressionPrediction Classify(ExpressionInput input) => ClassifyBatch([input])[0];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An input lacks its image or its landmarks cannot place a crop.</exception>
    public IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var faces = new ExpressionFace[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i] ?? throw new ArgumentException($"Input {i} is null.", nameof(inputs));
            ArgumentNullException.ThrowIfNull(input.Landmarks);
            faces[i] = new ExpressionFace(
                input.Image ?? throw new ArgumentException($"Input {i} has no image; the network classifier reads the face crop.", nameof(inputs)),
                input.Landmarks);
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return ExpressionNetworkTrainer.Predict(network, Spec.Classes, faces, Spec.Crop, Spec.MirrorAverage, batchSize);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (gate)
        {
            if (!disposed)
            {
                network.Dispose();
                disposed = true;
            }
        }
    }
}
