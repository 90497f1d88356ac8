using static TorchSharp.torch;

namespace FacialKeypoints.Emotion;

/// <summary>A face for the crop networks: its image and its landmarks in the image's pixels (only the eye corners set the crop).</summary>
/// <param name="Image">The original image.</param>
/// <param name="Landmarks">Its landmarks in the image's pixels.</param>
/// <param name="Scheme">Their scheme; iBUG-68 when null.</param>
internal sealed record ExpressionFace(RgbImage Image, float[] Landmarks, LandmarkScheme? Scheme = null);

/// <summary>How an <see cref="ExpressionNetwork"/> reads faces: aligned crops, normalised, batched, optionally mirror-averaged.</summary>
internal static class NetworkPrediction
{
    /// <summary>The aligned crops of <paramref name="faces"/>[start..start + count], cut two at a time.</summary>
    public static RgbImage[] Crops(IReadOnlyList<ExpressionFace> faces, int start, int count, CropSpec crop)
    {
        var crops = new RgbImage[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, k => crops[k] = AlignedCrop.Extract(faces[start + k].Image, faces[start + k].Landmarks, crop, faces[start + k].Scheme));
        return crops;
    }

    /// <summary>Predicts faces with a fitted network.</summary>
    /// <param name="network">The network.</param>
    /// <param name="classes">Its class labels in output order.</param>
    /// <param name="faces">The faces.</param>
    /// <param name="crop">The crop the network was fitted on.</param>
    /// <param name="mirrorAverage">Whether to average the probabilities of the crop and its mirror image.</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    /// <returns>One prediction per face; classes the network does not know get probability 0.</returns>
    public static IReadOnlyList<ExpressionPrediction> Predict(ExpressionNetwork network, IReadOnlyList<ExpressionLabel> classes, IReadOnlyList<ExpressionFace> faces, CropSpec crop, bool mirrorAverage, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(crop);
        return PredictCrops(network, classes, Crops(faces, 0, faces.Count, crop), mirrorAverage, batchSize);
    }

    /// <summary>Predicts crops already cut with <see cref="AlignedCrop.Extract(RgbImage, ReadOnlySpan{float}, CropSpec, LandmarkScheme?)"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="classes">Its class labels in output order.</param>
    /// <param name="crops">The crops, all of one size.</param>
    /// <param name="mirrorAverage">Whether to average the probabilities of each crop and its mirror image.</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    /// <returns>One prediction per crop.</returns>
    public static IReadOnlyList<ExpressionPrediction> PredictCrops(ExpressionNetwork network, IReadOnlyList<ExpressionLabel> classes, IReadOnlyList<RgbImage> crops, bool mirrorAverage, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(crops);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (classes.Count != network.ClassCount)
        {
            throw new ArgumentException($"{classes.Count} class labels for a network with {network.ClassCount} outputs.", nameof(classes));
        }

        network.eval();
        var result = new List<ExpressionPrediction>(crops.Count);
        Span<float> all = stackalloc float[ExpressionLabels.Count];
        for (int start = 0; start < crops.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, crops.Count - start);
            float[] probabilities;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var input = ToTensor(crops, start, count);
                var p = nn.functional.softmax(network.call(input), 1);
                if (mirrorAverage)
                {
                    p = p.add(nn.functional.softmax(network.call(input.flip(3)), 1)).div(2);
                }

                probabilities = p.contiguous().data<float>().ToArray();
            }

            for (int n = 0; n < count; n++)
            {
                all.Clear();
                for (int c = 0; c < classes.Count; c++)
                {
                    all[(int)classes[c]] = probabilities[(n * classes.Count) + c];
                }

                result.Add(ExpressionPrediction.FromProbabilities(all));
            }
        }

        return result;
    }

    /// <summary>Normalised crops <c>[count, 3, S, S]</c> from <paramref name="crops"/>[start..].</summary>
    public static Tensor ToTensor(IReadOnlyList<RgbImage> crops, int start, int count)
    {
        using var unit = AlignedCrop.ToUnitTensor(crops, start, count);
        return ExpressionNetwork.Normalization.Apply(unit);
    }
}
