namespace FacialKeypoints.Emotion;

/// <summary>
/// The convolutional expression classifier: one or more <see cref="ExpressionNetwork"/>s read the eye-aligned crop of
/// each face (the landmarks only place the crop, so it works even when the predicted mouth shape is flat); their
/// probabilities, each averaged with the mirrored crop's, are averaged. Uses the network shipped with the package
/// unless given another. Needs the image of every face. Thread-safe; dispose it.
/// </summary>
public sealed class NetworkExpressionClassifier : IExpressionClassifier, IDisposable
{
    private readonly Lock gate = new();
    private readonly ExpressionNetworkModel model;
    private readonly int batchSize;
    private bool disposed;

    /// <summary>Creates the classifier from options: the network file named there, else the shipped network.</summary>
    /// <param name="options">The network file and batch size; defaults when null.</param>
    public NetworkExpressionClassifier(NetworkExpressionOptions? options = null)
    {
        options ??= new NetworkExpressionOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        model = string.IsNullOrWhiteSpace(options.NetworkPath)
            ? ExpressionNetworkFile.LoadEmbedded()
            : ExpressionNetworkFile.Load(options.NetworkPath);
        batchSize = options.BatchSize;
    }

    /// <summary>Creates the classifier around a model; it takes ownership of it.</summary>
    /// <param name="model">The networks, their spec and notes.</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    public NetworkExpressionClassifier(ExpressionNetworkModel model, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        this.model = model;
        this.batchSize = batchSize;
    }

    /// <inheritdoc/>
    public string Name => "network";

    /// <summary>The networks in use, with their classes, crop, mirroring and notes (for the shipped model: how it was fitted).</summary>
    public ExpressionNetworkModel Model => model;

    /// <inheritdoc/>
    public ExpressionPrediction Classify(ExpressionInput input) => ClassifyBatch([input])[0];

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">An input lacks its image or its landmarks cannot place a crop.</exception>
    public IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return model.Predict(inputs, batchSize);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (gate)
        {
            if (!disposed)
            {
                model.Dispose();
                disposed = true;
            }
        }
    }
}
