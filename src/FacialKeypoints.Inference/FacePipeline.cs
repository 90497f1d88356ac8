using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using FacialKeypoints.Inference.Detection;
using FacialKeypoints.Inference.Expressions;
using FacialKeypoints.Inference.Landmarks;
using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference;

/// <summary>
/// From a picture to its faces: decode once, detect, crop each face once onto the landmark network's input, run
/// all faces of the picture as one batch, map the landmarks back to the picture's pixels, then crop and classify
/// each face's expression from its landmarks. ONNX Runtime only (no TorchSharp); the models are embedded.
/// </summary>
/// <remarks>
/// Thread-safe: one instance may serve any number of threads at once (each call keeps its state on the stack;
/// ONNX Runtime sessions run concurrently). Build one and share it; dispose it to free the sessions.
/// </remarks>
public sealed class FacePipeline : IDisposable
{
    private readonly FacePipelineOptions options;
    /// <summary>Pictures longer than this on their longer side go to the back model under <see cref="FaceDetectorKind.Auto"/>.</summary>
    private const int AutoBackAbove = 512;

    private readonly BlazeFaceDetector? front;
    private readonly BlazeFaceDetector? back;
    private readonly LandmarkNetwork landmarks;
    private readonly ExpressionNetwork? expressions;

    /// <summary>Loads the models the options name.</summary>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="ValidationException">An option is out of range.</exception>
    /// <exception cref="FileNotFoundException">A model file named in the options does not exist.</exception>
    /// <exception cref="InvalidDataException">A model is not a usable ONNX file or lacks the metadata this pipeline needs.</exception>
    public FacePipeline(FacePipelineOptions? options = null)
    {
        this.options = options ?? new FacePipelineOptions();
        Validator.ValidateObject(this.options, new ValidationContext(this.options), validateAllProperties: true);
        int threads = this.options.Threads;
        try
        {
            if (!Enum.IsDefined(this.options.Detector))
            {
                throw new ValidationException($"Unknown detector {this.options.Detector}.");
            }

            if (this.options.Detector is FaceDetectorKind.Auto or FaceDetectorKind.BlazeFaceFront)
            {
                front = new BlazeFaceDetector(Shipped(ShippedModels.DetectorFront128, threads), FaceRegions.BlazeFaceFront);
            }

            if (this.options.Detector is FaceDetectorKind.Auto or FaceDetectorKind.BlazeFaceBack)
            {
                back = new BlazeFaceDetector(Shipped(ShippedModels.DetectorBack256, threads), FaceRegions.BlazeFaceBack);
            }
            if (string.IsNullOrEmpty(this.options.LandmarkModelPath) && this.options.Precision != InferencePrecision.Int8 && !ShippedModels.Has(ShippedModels.Landmarks))
            {
                throw new ValidationException(
                    "The package ships the landmark network in int8 only (a float32 copy would add 46 MB to every app): for float32, export the model with 'fkp export --onnx' and set LandmarkModelPath.");
            }

            landmarks = Wrap(
                string.IsNullOrEmpty(this.options.LandmarkModelPath)
                    ? Shipped(this.options.Precision == InferencePrecision.Int8 ? ShippedModels.LandmarksInt8 : ShippedModels.Landmarks, threads)
                    : OnnxNetwork.Open(this.options.LandmarkModelPath, threads),
                n => new LandmarkNetwork(n));
            if (this.options.Expression)
            {
                expressions = Wrap(
                    string.IsNullOrEmpty(this.options.ExpressionModelPath)
                        ? Shipped(ShippedModels.Expression, threads)
                        : OnnxNetwork.Open(this.options.ExpressionModelPath, threads),
                    n => new ExpressionNetwork(n));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The landmark scheme of <see cref="FaceResult.Landmarks"/>.</summary>
    public LandmarkScheme Scheme => landmarks.Scheme;

    /// <summary>The options the pipeline runs with.</summary>
    public FacePipelineOptions Options => options;

    /// <summary>Finds the faces in an image file (decoded by content: PNG, JPEG, WebP, BMP, GIF).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The faces, best detection first; empty when none is found.</returns>
    /// <exception cref="ImageDecodeException">The file is not a readable image (the message names it).</exception>
    public IReadOnlyList<FaceResult> Process(string path) => Process(ImageDecoder.Decode(path));

    /// <summary>Finds the faces in encoded image bytes.</summary>
    /// <param name="encoded">The encoded image.</param>
    /// <param name="name">A name for error messages.</param>
    /// <returns>The faces, best detection first.</returns>
    public IReadOnlyList<FaceResult> Process(byte[] encoded, string name = "image") => Process(ImageDecoder.Decode(encoded, name));

    /// <summary>Finds the faces in an encoded image stream (read to its end).</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="name">A name for error messages.</param>
    /// <returns>The faces, best detection first.</returns>
    public IReadOnlyList<FaceResult> Process(Stream stream, string name = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Process(buffer.ToArray(), name);
    }

    /// <summary>Finds the faces in a decoded image.</summary>
    /// <param name="image">The image.</param>
    /// <param name="timings">Where to add the time of each stage, or null.</param>
    /// <returns>The faces, best detection first.</returns>
    public IReadOnlyList<FaceResult> Process(RgbImage image, PipelineTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        long start = Stopwatch.GetTimestamp();
        using var source = new WarpSource(image);
        var detector = DetectorFor(image);
        var found = detector is null
            ? [new FaceDetection(new FaceBox(0, 0, image.Width, image.Height), 1f, [])]
            : detector.Detect(source, options.MinFaceScore, options.MaxFaces);
        timings?.AddDetection(start);
        var regions = detector is null
            ? [found[0].Box]
            : found.Select(d => detector.Framing.Around(d.Box)).ToArray();
        return Describe(source, found, regions, options.Refine, timings);
    }

    /// <summary>
    /// Follows faces from a previous frame without running the detector: each face is framed by its previous
    /// landmarks (for video, where faces move little between frames). Re-detect every few frames, or when a face
    /// is lost, with <see cref="Process(RgbImage, PipelineTimings)"/>.
    /// </summary>
    /// <param name="image">The new frame.</param>
    /// <param name="previous">The faces of an earlier frame.</param>
    /// <param name="timings">Where to add the time of each stage, or null.</param>
    /// <returns>The faces in the new frame, in the same order; the box follows the new landmarks, the score carries over.</returns>
    public IReadOnlyList<FaceResult> Track(RgbImage image, IReadOnlyList<FaceResult> previous, PipelineTimings? timings = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(previous);
        using var source = new WarpSource(image);
        var regions = previous.Select(f => FaceRegions.FromLandmarks(f.Landmarks)).ToArray();
        var faces = Describe(source, null, regions, refine: false, timings);
        for (int i = 0; i < faces.Length; i++)
        {
            faces[i] = faces[i] with { Box = FaceBox.Around(faces[i].Landmarks), Score = previous[i].Score };
        }

        return faces;
    }

    /// <summary>Runs the detector only.</summary>
    /// <param name="image">The image.</param>
    /// <returns>The detections, best first; the whole image when the pipeline has no detector.</returns>
    public IReadOnlyList<FaceDetection> Detect(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var detector = DetectorFor(image);
        if (detector is null)
        {
            return [new FaceDetection(new FaceBox(0, 0, image.Width, image.Height), 1f, [])];
        }

        using var source = new WarpSource(image);
        return detector.Detect(source, options.MinFaceScore, options.MaxFaces);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        front?.Dispose();
        back?.Dispose();
        landmarks?.Dispose();
        expressions?.Dispose();
    }

    private BlazeFaceDetector? DetectorFor(RgbImage image) =>
        back is not null && (front is null || Math.Max(image.Width, image.Height) > AutoBackAbove) ? back : front;

    private static OnnxNetwork Shipped(string name, int threads) => OnnxNetwork.Open(ShippedModels.Read(name), name, threads);

    /// <summary>Hands a session to its wrapper, which checks the metadata; closes the session when the check fails.</summary>
    private static T Wrap<T>(OnnxNetwork network, Func<OnnxNetwork, T> wrap)
    {
        try
        {
            return wrap(network);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Landmarks and expression of the faces in <paramref name="regions"/>; boxes and scores from <paramref name="found"/> when given.</summary>
    private FaceResult[] Describe(WarpSource source, IReadOnlyList<FaceDetection>? found, IReadOnlyList<FaceBox> regions, bool refine, PipelineTimings? timings)
    {
        long start = Stopwatch.GetTimestamp();
        var points = landmarks.Predict(source, regions, options.FlipAverage);
        if (refine)
        {
            points = landmarks.Predict(source, [.. points.Select(p => FaceRegions.FromLandmarks(p))], options.FlipAverage);
        }

        timings?.AddLandmarks(start);
        start = Stopwatch.GetTimestamp();
        var expression = expressions?.Classify(source, points, landmarks.Scheme);
        if (expressions is not null)
        {
            timings?.AddExpression(start);
        }

        var faces = new FaceResult[points.Length];
        for (int i = 0; i < faces.Length; i++)
        {
            faces[i] = new FaceResult(i, found?[i].Box ?? FaceBox.Around(points[i]), found?[i].Score ?? 1f, points[i], expression?[i]);
        }

        timings?.AddCall(faces.Length);
        return faces;
    }
}
