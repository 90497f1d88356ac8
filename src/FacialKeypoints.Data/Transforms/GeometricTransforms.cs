namespace FacialKeypoints.Data.Transforms;

/// <summary>
/// Resizes to a square of <see cref="Size"/> pixels, stretching each axis on its own as the reference pipeline
/// did (x * size / width, y * size / height, in pixel-edge coordinates). Deterministic.
/// </summary>
public sealed class Rescale : IKeypointTransform
{
    /// <summary>Creates the transform.</summary>
    public Rescale(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        Size = size;
    }

    /// <summary>Output width and height in pixels.</summary>
    public int Size { get; }

    /// <inheritdoc/>
    public bool IsRandom => false;

    /// <summary>The map from an image of the given size to the output square.</summary>
    public AffineMatrix MatrixFor(int width, int height) => AffineMatrix.Scaling((float)Size / width, (float)Size / height);

    /// <inheritdoc/>
    public FaceSample Apply(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Image.Width == Size && sample.Image.Height == Size)
        {
            return sample;
        }

        var map = MatrixFor(sample.Image.Width, sample.Image.Height);
        return sample with { Image = ImageWarp.Warp(sample.Image, Size, Size, map), Keypoints = map.MapKeypoints(sample.Keypoints) };
    }
}

/// <summary>
/// Mirrors the image left-right with probability <see cref="Probability"/>: pixel (x, y) moves to
/// (W - 1 - x, y), keypoint x to W - 1 - x, AND points swap places by the scheme's flip permutation, so the
/// subject's right eye stays labelled as the right eye.
/// </summary>
public sealed class HorizontalFlip : KeypointTransform<bool>
{
    private readonly LandmarkScheme scheme;

    /// <summary>Creates the transform.</summary>
    public HorizontalFlip(LandmarkScheme scheme, double probability = 0.5)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1);
        this.scheme = scheme;
        Probability = probability;
    }

    /// <summary>Chance of flipping a sample.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    public override bool Sample(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        return random.NextDouble() < Probability;
    }

    /// <inheritdoc/>
    public override FaceSample Apply(FaceSample sample, bool parameters)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return parameters ? sample with { Image = MirrorImage(sample.Image), Keypoints = FlipKeypoints(sample.Keypoints, sample.Image.Width, scheme) } : sample;
    }

    /// <summary>Mirrors keypoints in an image of the given width and permutes them with the scheme.</summary>
    public static float[] FlipKeypoints(ReadOnlySpan<float> keypoints, int width, LandmarkScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (keypoints.Length != scheme.ValueCount)
        {
            throw new ArgumentException($"Expected {scheme.ValueCount} values for {scheme}, got {keypoints.Length}.", nameof(keypoints));
        }

        var result = new float[keypoints.Length];
        var permutation = scheme.FlipPermutation;
        for (int i = 0; i < scheme.Count; i++)
        {
            int j = permutation[i];
            result[2 * j] = width - 1 - keypoints[2 * i];
            result[(2 * j) + 1] = keypoints[(2 * i) + 1];
        }

        return result;
    }

    /// <summary>Mirrors an image left-right.</summary>
    public static RgbImage MirrorImage(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var result = new RgbImage(image.Width, image.Height);
        var src = image.Pixels;
        var dst = result.Pixels;
        int w = image.Width;
        for (int y = 0; y < image.Height; y++)
        {
            int row = y * w * 3;
            for (int x = 0; x < w; x++)
            {
                int s = row + (x * 3), d = row + ((w - 1 - x) * 3);
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }

        return result;
    }
}

/// <summary>Parameters of one <see cref="RandomAffine"/> application.</summary>
/// <param name="RotationDegrees">Rotation about the image centre, clockwise on screen.</param>
/// <param name="Scale">Zoom about the image centre (above 1 enlarges the face).</param>
/// <param name="TranslateX">Shift right, as a fraction of the width.</param>
/// <param name="TranslateY">Shift down, as a fraction of the height.</param>
public readonly record struct AffineParameters(float RotationDegrees, float Scale, float TranslateX, float TranslateY);

/// <summary>
/// A random rotation, zoom and shift about the image centre; pixels and keypoints move together and the output
/// keeps the input size. Uncovered areas are black.
/// </summary>
public sealed class RandomAffine : KeypointTransform<AffineParameters>
{
    /// <summary>Creates the transform.</summary>
    /// <param name="maxRotationDegrees">Rotation is uniform in [-max, max].</param>
    /// <param name="minScale">Smallest zoom.</param>
    /// <param name="maxScale">Largest zoom.</param>
    /// <param name="maxTranslation">Shift is uniform in [-max, max] of each side.</param>
    public RandomAffine(float maxRotationDegrees = 15, float minScale = 0.9f, float maxScale = 1.1f, float maxTranslation = 0.05f)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRotationDegrees);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minScale);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxScale, minScale);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTranslation);
        MaxRotationDegrees = maxRotationDegrees;
        MinScale = minScale;
        MaxScale = maxScale;
        MaxTranslation = maxTranslation;
    }

    /// <summary>Largest rotation in degrees.</summary>
    public float MaxRotationDegrees { get; }

    /// <summary>Smallest zoom.</summary>
    public float MinScale { get; }

    /// <summary>Largest zoom.</summary>
    public float MaxScale { get; }

    /// <summary>Largest shift as a fraction of each side.</summary>
    public float MaxTranslation { get; }

    /// <summary>The map for given parameters on an image of the given size.</summary>
    public static AffineMatrix MatrixFor(AffineParameters parameters, int width, int height)
    {
        float cx = width / 2f, cy = height / 2f;
        var map = AffineMatrix.Translation(-cx, -cy);
        map = AffineMatrix.Then(map, AffineMatrix.Scaling(parameters.Scale, parameters.Scale));
        map = AffineMatrix.Then(map, AffineMatrix.Rotation(parameters.RotationDegrees * MathF.PI / 180f));
        return AffineMatrix.Then(map, AffineMatrix.Translation(cx + (parameters.TranslateX * width), cy + (parameters.TranslateY * height)));
    }

    /// <inheritdoc/>
    public override AffineParameters Sample(FaceSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        float Uniform(float lo, float hi) => lo + ((hi - lo) * random.NextSingle());
        return new AffineParameters(
            Uniform(-MaxRotationDegrees, MaxRotationDegrees),
            Uniform(MinScale, MaxScale),
            Uniform(-MaxTranslation, MaxTranslation),
            Uniform(-MaxTranslation, MaxTranslation));
    }

    /// <inheritdoc/>
    public override FaceSample Apply(FaceSample sample, AffineParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(sample);
        int w = sample.Image.Width, h = sample.Image.Height;
        var map = MatrixFor(parameters, w, h);
        return sample with { Image = ImageWarp.Warp(sample.Image, w, h, map), Keypoints = map.MapKeypoints(sample.Keypoints) };
    }
}
