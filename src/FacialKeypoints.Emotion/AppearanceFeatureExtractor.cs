using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Import;
using static TorchSharp.torch;

namespace FacialKeypoints.Emotion;

/// <summary>
/// Appearance features of a face: the <see cref="AlignedCrop"/> of a region, run through the ImageNet ResNet-18
/// backbone (pooled, 512 values). Optionally averages the features of the crop and its mirror image, which makes
/// them indifferent to which side of the face a cue is on. Owns its backbone; dispose it.
/// </summary>
public sealed class AppearanceFeatureExtractor : IDisposable
{
    /// <summary>The number of features.</summary>
    public const int FeatureCount = ResNet18Backbone.FeatureCount;

    private readonly ResNet18Backbone backbone;
    private readonly NormalizationSpec normalization;
    private bool disposed;

    /// <summary>Creates an extractor with the ImageNet backbone, found with <see cref="ImageNetResNet18.FindOnnxFile"/> unless given.</summary>
    /// <param name="crop">The face region.</param>
    /// <param name="averageMirror">Whether to average the features of the crop and its mirror image.</param>
    /// <param name="onnxPath">The ResNet18.onnx file, or null to search for it.</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    /// <exception cref="FileNotFoundException">The ONNX file was not found.</exception>
    public AppearanceFeatureExtractor(CropSpec crop, bool averageMirror, string? onnxPath = null, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(crop);
        crop.Validate();
        if (crop.Size % 32 != 0)
        {
            throw new ArgumentException($"The crop size {crop.Size} must be a multiple of 32 for the ResNet backbone.", nameof(crop));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        TorchRuntime.EnsureInitialized();
        Crop = crop;
        AverageMirror = averageMirror;
        BatchSize = batchSize;
        backbone = ImageNetResNet18.CreateBackbone(ResNet18Layout.Standard, onnxPath);
        backbone.eval();
        normalization = ImageNetResNet18.Normalization;
    }

    /// <summary>The face region.</summary>
    public CropSpec Crop { get; }

    /// <summary>Whether the crop's mirror image is averaged in.</summary>
    public bool AverageMirror { get; }

    /// <summary>Crops per forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>Features of one face.</summary>
    /// <param name="image">The original image.</param>
    /// <param name="landmarks">Its landmarks in the image's pixels.</param>
    /// <returns><see cref="FeatureCount"/> values.</returns>
    public float[] Extract(RgbImage image, float[] landmarks) => Extract([(image, landmarks)])[0];

    /// <summary>Features of several faces, batched.</summary>
    /// <param name="faces">Images with their landmarks.</param>
    /// <returns>One feature vector per face.</returns>
    public float[][] Extract(IReadOnlyList<(RgbImage Image, float[] Landmarks)> faces)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ObjectDisposedException.ThrowIf(disposed, this);
        var result = new float[faces.Count][];
        for (int start = 0; start < faces.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, faces.Count - start);
            var crops = new RgbImage[count];
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
                crops[i] = AlignedCrop.Extract(faces[start + i].Image, faces[start + i].Landmarks, Crop));
            var features = ExtractFromCrops(crops);
            Array.Copy(features, 0, result, start, count);
        }

        return result;
    }

    /// <summary>Features of crops already cut with <see cref="AlignedCrop.Extract"/> (all of <see cref="Crop"/>'s size).</summary>
    /// <param name="crops">The crops.</param>
    /// <returns>One feature vector per crop.</returns>
    public float[][] ExtractFromCrops(IReadOnlyList<RgbImage> crops)
    {
        ArgumentNullException.ThrowIfNull(crops);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (crops.Count == 0)
        {
            return [];
        }

        int size = Crop.Size;
        var buffer = new float[crops.Count * 3 * size * size];
        int plane = size * size;
        for (int n = 0; n < crops.Count; n++)
        {
            var crop = crops[n];
            if (crop.Width != size || crop.Height != size)
            {
                throw new ArgumentException($"Crop {n} is {crop.Width}x{crop.Height}, expected {size}x{size}.", nameof(crops));
            }

            var px = crop.Pixels;
            int baseOffset = n * 3 * plane;
            for (int i = 0; i < plane; i++)
            {
                buffer[baseOffset + i] = px[3 * i] / 255f;
                buffer[baseOffset + plane + i] = px[(3 * i) + 1] / 255f;
                buffer[baseOffset + (2 * plane) + i] = px[(3 * i) + 2] / 255f;
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = tensor(buffer, [crops.Count, 3, size, size]);
        var input = normalization.Apply(images);
        var features = backbone.call(input);
        if (AverageMirror)
        {
            var mirrored = backbone.call(input.flip(3));
            features = features.add(mirrored).div(2);
        }

        float[] flat = features.contiguous().data<float>().ToArray();
        var result = new float[crops.Count][];
        for (int n = 0; n < crops.Count; n++)
        {
            result[n] = flat.AsSpan(n * FeatureCount, FeatureCount).ToArray();
        }

        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!disposed)
        {
            backbone.Dispose();
            disposed = true;
        }
    }
}
