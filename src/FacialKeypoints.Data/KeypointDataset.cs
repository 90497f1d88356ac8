namespace FacialKeypoints.Data;

/// <summary>A source of face samples by index.</summary>
public interface IFaceDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>The landmark scheme of the keypoints.</summary>
    LandmarkScheme Scheme { get; }

    /// <summary>Metadata of sample <paramref name="index"/> without decoding its image.</summary>
    SampleInfo GetInfo(int index);

    /// <summary>Loads sample <paramref name="index"/>. Safe to call from several threads at once.</summary>
    FaceSample Load(int index);
}

/// <summary>Options for opening a keypoint dataset.</summary>
public sealed class KeypointDatasetOptions
{
    /// <summary>The landmark scheme of the CSV's keypoints.</summary>
    public LandmarkScheme Scheme { get; set; } = LandmarkScheme.Ibug68;

    /// <summary>What to do with rows that fail validation.</summary>
    public BadRowPolicy BadRows { get; set; } = BadRowPolicy.FailFast;

    /// <summary>Check at open time that every named image file exists (cheap; no decoding).</summary>
    public bool CheckFilesExist { get; set; } = true;
}

/// <summary>
/// Images in a folder with their keypoints from a CSV (the Udacity / YouTube Faces layout). Images are decoded
/// on demand; wrap it in <see cref="CachedFaceDataset"/> to keep decoded, resized images in memory.
/// </summary>
public sealed class KeypointDataset : IFaceDataset
{
    private readonly KeypointRecord[] records;
    private readonly SampleInfo?[] infos;

    private KeypointDataset(string csvPath, string imageDirectory, LandmarkScheme scheme, KeypointRecord[] records, IReadOnlyList<CsvProblem> problems)
    {
        CsvPath = csvPath;
        ImageDirectory = imageDirectory;
        Scheme = scheme;
        this.records = records;
        infos = new SampleInfo?[records.Length];
        Problems = problems;
    }

    /// <summary>The CSV the labels came from.</summary>
    public string CsvPath { get; }

    /// <summary>The folder holding the images.</summary>
    public string ImageDirectory { get; }

    /// <inheritdoc/>
    public LandmarkScheme Scheme { get; }

    /// <inheritdoc/>
    public int Count => records.Length;

    /// <summary>Rows left out under <see cref="BadRowPolicy.SkipAndReport"/> (missing image files included).</summary>
    public IReadOnlyList<CsvProblem> Problems { get; }

    /// <summary>The labelled rows, in file order.</summary>
    public IReadOnlyList<KeypointRecord> Records => records;

    /// <summary>Opens a dataset from a keypoint CSV and the folder of its images.</summary>
    /// <exception cref="KeypointCsvException">A bad row (or missing image) under <see cref="BadRowPolicy.FailFast"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The image folder does not exist.</exception>
    public static KeypointDataset Open(string csvPath, string imageDirectory, KeypointDatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(csvPath);
        ArgumentNullException.ThrowIfNull(imageDirectory);
        options ??= new KeypointDatasetOptions();
        if (!Directory.Exists(imageDirectory))
        {
            throw new DirectoryNotFoundException($"Image folder '{imageDirectory}' does not exist.");
        }

        var read = KeypointCsvReader.Read(csvPath, options.Scheme, options.BadRows);
        var kept = new List<KeypointRecord>(read.Records.Count);
        var problems = new List<CsvProblem>(read.Problems);
        foreach (var record in read.Records)
        {
            if (options.CheckFilesExist && !File.Exists(Path.Combine(imageDirectory, record.Name)))
            {
                var problem = new CsvProblem(csvPath, record.Line, $"image '{record.Name}' is not in '{imageDirectory}'");
                if (options.BadRows == BadRowPolicy.FailFast)
                {
                    throw new KeypointCsvException(problem);
                }

                problems.Add(problem);
                continue;
            }

            kept.Add(record);
        }

        return new KeypointDataset(csvPath, imageDirectory, options.Scheme, [.. kept], problems);
    }

    /// <summary>Opens one split of the Udacity layout: <c>{root}/{split}_frames_keypoints.csv</c> and <c>{root}/{split}/</c>.</summary>
    /// <param name="root">The folder holding the CSVs and image folders.</param>
    /// <param name="split"><c>training</c> or <c>test</c>.</param>
    /// <param name="options">Open options.</param>
    public static KeypointDataset OpenSplit(string root, string split, KeypointDatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(split);
        return Open(Path.Combine(root, $"{split}_frames_keypoints.csv"), Path.Combine(root, split), options);
    }

    /// <summary>The full path of sample <paramref name="index"/>'s image.</summary>
    public string ImagePath(int index) => Path.Combine(ImageDirectory, records[index].Name);

    /// <inheritdoc/>
    /// <remarks>Reads the image header for its size the first time; later calls are free.</remarks>
    public SampleInfo GetInfo(int index)
    {
        var known = infos[index];
        if (known is not null)
        {
            return known;
        }

        var (width, height) = ImageDecoder.ReadSize(ImagePath(index));
        return infos[index] = NewInfo(index, width, height);
    }

    /// <inheritdoc/>
    /// <exception cref="ImageDecodeException">The image cannot be decoded.</exception>
    public FaceSample Load(int index)
    {
        var record = records[index];
        var image = ImageDecoder.Decode(ImagePath(index));
        var info = infos[index] ??= NewInfo(index, image.Width, image.Height);
        return new FaceSample(image, (float[])record.Keypoints.Clone(), info);
    }

    private SampleInfo NewInfo(int index, int width, int height)
    {
        string name = records[index].Name;
        return new SampleInfo(index, name, SampleInfo.IdentityOf(name), width, height);
    }
}

/// <summary>A view of some samples of another dataset, in the order given.</summary>
public sealed class FaceSubset : IFaceDataset
{
    private readonly IFaceDataset inner;
    private readonly int[] indices;

    /// <summary>Creates the view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the inner dataset.</exception>
    public FaceSubset(IFaceDataset inner, IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(indices);
        this.inner = inner;
        this.indices = [.. indices];
        foreach (int i in this.indices)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(i, nameof(indices));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, inner.Count, nameof(indices));
        }
    }

    /// <inheritdoc/>
    public int Count => indices.Length;

    /// <inheritdoc/>
    public LandmarkScheme Scheme => inner.Scheme;

    /// <summary>The inner dataset's indices of this view's samples.</summary>
    public IReadOnlyList<int> Indices => indices;

    /// <inheritdoc/>
    public SampleInfo GetInfo(int index) => inner.GetInfo(indices[index]);

    /// <inheritdoc/>
    public FaceSample Load(int index) => inner.Load(indices[index]);
}

/// <summary>
/// Keeps samples in memory after a deterministic preparation (usually decode + <see cref="Transforms.Rescale"/>),
/// so later epochs skip decoding. Thread-safe; each sample is prepared at most a few times under contention.
/// </summary>
public sealed class CachedFaceDataset : IFaceDataset
{
    private readonly IFaceDataset inner;
    private readonly Transforms.IKeypointTransform? prepare;
    private readonly FaceSample?[] cache;

    /// <summary>Creates the cache.</summary>
    /// <param name="inner">The dataset to cache.</param>
    /// <param name="prepare">A deterministic transform applied before caching (random transforms are refused).</param>
    public CachedFaceDataset(IFaceDataset inner, Transforms.IKeypointTransform? prepare = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (prepare is { IsRandom: true })
        {
            throw new ArgumentException("A cached preparation must be deterministic; apply random transforms after the cache.", nameof(prepare));
        }

        this.inner = inner;
        this.prepare = prepare;
        cache = new FaceSample?[inner.Count];
    }

    /// <inheritdoc/>
    public int Count => cache.Length;

    /// <inheritdoc/>
    public LandmarkScheme Scheme => inner.Scheme;

    /// <summary>How many samples are in memory.</summary>
    public int CachedCount => cache.Count(s => s is not null);

    /// <inheritdoc/>
    public SampleInfo GetInfo(int index) => inner.GetInfo(index);

    /// <inheritdoc/>
    public FaceSample Load(int index)
    {
        var sample = Volatile.Read(ref cache[index]);
        if (sample is null)
        {
            sample = inner.Load(index);
            if (prepare is not null)
            {
                sample = prepare.Apply(sample, Random.Shared);
            }

            Volatile.Write(ref cache[index], sample);
        }

        return sample;
    }
}
