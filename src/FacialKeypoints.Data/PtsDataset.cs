using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Data;

/// <summary>Options for opening a folder of images with iBUG <c>.pts</c> files.</summary>
public sealed class PtsDatasetOptions
{
    /// <summary>The landmark scheme of the files.</summary>
    public LandmarkScheme Scheme { get; set; } = LandmarkScheme.Ibug68;

    /// <summary>What to do with a malformed <c>.pts</c> file or one without an image beside it.</summary>
    public BadRowPolicy BadRows { get; set; } = BadRowPolicy.FailFast;

    /// <summary>The crop made around each face's landmark box; null keeps the whole image.</summary>
    public FaceFraming? Framing { get; set; } = FaceFraming.Training;
}

/// <summary>
/// A folder of images with iBUG <c>.pts</c> landmark files beside them (<c>face.jpg</c> and <c>face.pts</c>), the
/// layout of 300-W, LFPW, HELEN and AFW. All <c>.pts</c> files are read at open time; images are decoded on
/// demand and cropped to <see cref="PtsDatasetOptions.Framing"/> around their landmarks, so every sample is a
/// face crop framed like the training crops (wrap in <see cref="CachedFaceDataset"/> to keep them in memory).
/// The face sets do not name people: each file is its own identity.
/// </summary>
public sealed class PtsDataset : IFaceDataset
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif"];
    private readonly KeypointRecord[] records;
    private readonly string[] imageFiles;
    private readonly LandmarkBoxCrop? crop;

    private PtsDataset(string folder, LandmarkScheme scheme, KeypointRecord[] records, string[] imageFiles, LandmarkBoxCrop? crop, IReadOnlyList<CsvProblem> problems)
    {
        Folder = folder;
        Scheme = scheme;
        this.records = records;
        this.imageFiles = imageFiles;
        this.crop = crop;
        Problems = problems;
    }

    /// <summary>The folder.</summary>
    public string Folder { get; }

    /// <inheritdoc/>
    public LandmarkScheme Scheme { get; }

    /// <inheritdoc/>
    public int Count => records.Length;

    /// <summary>Files left out under <see cref="BadRowPolicy.SkipAndReport"/>.</summary>
    public IReadOnlyList<CsvProblem> Problems { get; }

    /// <summary>The faces in file-name order: image file name and 0-based keypoints in the whole image's pixels.</summary>
    public IReadOnlyList<KeypointRecord> Records => records;

    /// <summary>Whether a folder holds <c>.pts</c> files (and no keypoint CSV layout).</summary>
    /// <param name="folder">The folder.</param>
    /// <returns>True for a <c>.pts</c> folder.</returns>
    public static bool IsPtsFolder(string folder) =>
        Directory.Exists(folder)
        && !File.Exists(Path.Combine(folder, "training_frames_keypoints.csv"))
        && Directory.EnumerateFiles(folder, "*.pts", new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive }).Any();

    /// <summary>Opens a folder: every <c>*.pts</c> file with the image of the same name beside it.</summary>
    /// <param name="folder">The folder.</param>
    /// <param name="options">Open options.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="KeypointCsvException">A malformed file or a missing image under <see cref="BadRowPolicy.FailFast"/>.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static PtsDataset Open(string folder, PtsDatasetOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        options ??= new PtsDatasetOptions();
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Landmark folder '{folder}' does not exist.");
        }

        var caseInsensitive = new EnumerationOptions { MatchCasing = MatchCasing.CaseInsensitive };
        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
        {
            string extension = Path.GetExtension(file).ToLowerInvariant();
            int rank = Array.IndexOf(ImageExtensions, extension);
            string stem = Path.GetFileNameWithoutExtension(file);
            if (rank >= 0 && (!images.TryGetValue(stem, out var known) || rank < Array.IndexOf(ImageExtensions, Path.GetExtension(known).ToLowerInvariant())))
            {
                images[stem] = Path.GetFileName(file);
            }
        }

        var records = new List<KeypointRecord>();
        var files = new List<string>();
        var problems = new List<CsvProblem>();
        foreach (string path in Directory.EnumerateFiles(folder, "*.pts", caseInsensitive).Order(StringComparer.Ordinal))
        {
            string stem = Path.GetFileNameWithoutExtension(path);
            try
            {
                if (!images.TryGetValue(stem, out var image))
                {
                    throw new KeypointCsvException(new CsvProblem(path, 0, $"no image named '{stem}' with {string.Join(", ", ImageExtensions)} beside it"));
                }

                records.Add(PtsReader.Read(path, options.Scheme, image));
                files.Add(Path.Combine(folder, image));
            }
            catch (KeypointCsvException e) when (options.BadRows == BadRowPolicy.SkipAndReport && e.Problem is not null)
            {
                problems.Add(e.Problem);
            }
        }

        var crop = options.Framing is { } framing ? new LandmarkBoxCrop(framing) : null;
        return new PtsDataset(folder, options.Scheme, [.. records], [.. files], crop, problems);
    }

    /// <summary>The full path of sample <paramref name="index"/>'s image.</summary>
    /// <param name="index">The sample.</param>
    /// <returns>The path.</returns>
    public string ImagePath(int index) => imageFiles[index];

    /// <inheritdoc/>
    /// <remarks>With a framing, the size is the crop's, known from the landmarks alone; without, the image header is read.</remarks>
    public SampleInfo GetInfo(int index)
    {
        string name = records[index].Name;
        var (width, height) = crop is null ? ImageDecoder.ReadSize(imageFiles[index]) : CropSize(index);
        return new SampleInfo(index, name, Path.GetFileNameWithoutExtension(name), width, height);
    }

    /// <inheritdoc/>
    /// <exception cref="ImageDecodeException">The image cannot be decoded.</exception>
    public FaceSample Load(int index)
    {
        var record = records[index];
        var image = ImageDecoder.Decode(imageFiles[index]);
        var info = new SampleInfo(index, record.Name, Path.GetFileNameWithoutExtension(record.Name), image.Width, image.Height);
        var sample = new FaceSample(image, (float[])record.Keypoints.Clone(), info);
        return crop is null ? sample : crop.Apply(sample, Random.Shared);
    }

    private (int Width, int Height) CropSize(int index)
    {
        var (_, _, width, height) = crop!.CropFor(records[index].Keypoints);
        return (width, height);
    }
}
