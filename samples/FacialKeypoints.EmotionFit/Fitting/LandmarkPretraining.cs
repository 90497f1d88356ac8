using System.ComponentModel.DataAnnotations;
using System.Globalization;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Emotion;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit.Fitting;

/// <summary>Settings of <see cref="LandmarkPretraining"/>: the network and schedule, and which landmarks to regress.</summary>
internal sealed class LandmarkPretrainingOptions
{
    /// <summary>
    /// Crop, stages, schedule and augmentation (class weights and dropout are unused). Default: the whole-face
    /// 128 px crop, 3 stages, layer2 onwards trained, 8 epochs at 1e-3.
    /// </summary>
    [Required]
    public ExpressionNetworkOptions Network { get; set; } = new() { FirstTrainedStage = 2, Epochs = 8, LearningRate = 1e-3, Dropout = 0 };

    /// <summary>The iBUG-68 points to regress; must map onto themselves under a horizontal flip. Default brows, nose, eyes and mouth (17-67).</summary>
    [Required]
    public IReadOnlyList<int> Points { get; set; } = LandmarkPretraining.InnerFacePoints;
}

/// <summary>How well a pretrained network finds the landmarks of faces it did not train on.</summary>
/// <param name="FaceCount">Faces scored.</param>
/// <param name="MeanAbsoluteError">Mean absolute coordinate error, in inter-ocular distances.</param>
/// <param name="MouthWidthCorrelation">Pearson correlation of predicted and true mouth width (corners 48-54).</param>
/// <param name="MouthWidthSdRatio">Standard deviation of predicted over true mouth width (1 = as varied as the truth).</param>
/// <param name="OpeningCorrelation">Pearson correlation of predicted and true inner-lip opening (62-66).</param>
internal sealed record LandmarkPretrainingScore(int FaceCount, double MeanAbsoluteError, double MouthWidthCorrelation, double MouthWidthSdRatio, double OpeningCorrelation)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{FaceCount} faces: MAE {MeanAbsoluteError:0.0000} IOD, mouth width r {MouthWidthCorrelation:0.000} (sd ratio {MouthWidthSdRatio:0.00}), opening r {OpeningCorrelation:0.000}");
}

/// <summary>
/// Teaches an <see cref="ExpressionNetwork"/>'s backbone the shape of the face before it learns expression: it
/// regresses landmark positions in the face frame from the eye-aligned crop, which any keypoint CSV can teach
/// (thousands of faces instead of hundreds of expression labels). The keypoint network predicts an almost average
/// mouth; a backbone trained on aligned crops to place the mouth and brows carries that shape to the classifier.
/// </summary>
internal static class LandmarkPretraining
{
    /// <summary>Brows, nose, eyes and mouth of the iBUG-68 scheme (points 17 to 67): everything but the jaw line.</summary>
    public static IReadOnlyList<int> InnerFacePoints { get; } = [.. Enumerable.Range(17, 51)];

    private const string StagesKey = "fkp.backbone.stages";

    /// <summary>Fits a network that regresses <see cref="LandmarkPretrainingOptions.Points"/> from the aligned crop.</summary>
    /// <param name="faces">Faces with true landmarks.</param>
    /// <param name="options">The settings.</param>
    /// <param name="validation">Faces scored after every epoch (<see cref="Score"/>), or null.</param>
    /// <param name="onnxPath">ResNet18.onnx for the ImageNet start, or null to search for it.</param>
    /// <param name="progress">Receives a line per epoch; may be null.</param>
    /// <returns>The network (its outputs are the points' normalised crop coordinates), owned by the caller.</returns>
    /// <exception cref="ArgumentException">The options are invalid or the points are not closed under a flip.</exception>
    public static ExpressionNetwork Fit(IReadOnlyList<ExpressionFace> faces, LandmarkPretrainingOptions options, IReadOnlyList<ExpressionFace>? validation = null, string? onnxPath = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Network ?? throw new ArgumentException("Network settings are required.", nameof(options));
        Validator.ValidateObject(o, new ValidationContext(o), validateAllProperties: true);
        var points = CheckPoints(options.Points);
        if (faces.Count < 2)
        {
            throw new ArgumentException("Pretraining needs at least two faces.", nameof(faces));
        }

        TorchRuntime.EnsureInitialized();
        manual_seed(o.Seed);
        var network = new ExpressionNetwork(o.Stages, 2 * points.Length, o.Dropout);
        try
        {
            ExpressionNetworkTrainer.LoadImageNetWeights(network, onnxPath);
            network.FreezeBelow(o.FirstTrainedStage);
            Train(network, faces, points, o, validation, progress);
            network.eval();
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>Predicted face-frame landmarks (u, v pairs of the given points), averaged with the mirrored crop's.</summary>
    /// <param name="network">A pretrained network.</param>
    /// <param name="faces">The faces; their landmarks only place the crop (eye corners).</param>
    /// <param name="points">The points the network regresses, in its output order.</param>
    /// <param name="crop">The crop it was trained on.</param>
    /// <returns>Per face, (u, v) for each point in inter-ocular distances.</returns>
    public static IReadOnlyList<float[]> Predict(ExpressionNetwork network, IReadOnlyList<ExpressionFace> faces, IReadOnlyList<int> points, CropSpec crop)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(faces);
        ArgumentNullException.ThrowIfNull(crop);
        var checkedPoints = CheckPoints(points);
        var mirrorOf = MirrorIndex(checkedPoints);
        network.eval();
        var result = new List<float[]>(faces.Count);
        const int batch = 32;
        for (int start = 0; start < faces.Count; start += batch)
        {
            int count = Math.Min(batch, faces.Count - start);
            var crops = NetworkPrediction.Crops(faces, start, count, crop);
            float[] direct, mirrored;
            using (NewDisposeScope())
            using (no_grad())
            {
                var input = NetworkPrediction.ToTensor(crops, 0, count);
                direct = network.call(input).contiguous().data<float>().ToArray();
                mirrored = network.call(input.flip(3)).contiguous().data<float>().ToArray();
            }

            int width = 2 * checkedPoints.Length;
            for (int k = 0; k < count; k++)
            {
                var uv = new float[width];
                for (int j = 0; j < checkedPoints.Length; j++)
                {
                    // The mirrored crop's point j is this face's point mirrorOf[j], reflected about the crop centre.
                    int m = mirrorOf[j];
                    float u = (direct[(k * width) + (2 * j)] - mirrored[(k * width) + (2 * m)]) / 2;
                    float v = (direct[(k * width) + (2 * j) + 1] + mirrored[(k * width) + (2 * m) + 1]) / 2;
                    uv[2 * j] = crop.CenterU + (u * crop.Extent / 2);
                    uv[(2 * j) + 1] = crop.CenterV + (v * crop.Extent / 2);
                }

                result.Add(uv);
            }
        }

        return result;
    }

    /// <summary>Scores a pretrained network on faces with true landmarks (predictions from <see cref="Predict"/>).</summary>
    /// <param name="network">The network.</param>
    /// <param name="faces">Faces with true landmarks.</param>
    /// <param name="points">The points the network regresses; must include 48, 54, 62 and 66.</param>
    /// <param name="crop">The crop it was trained on.</param>
    /// <returns>The score.</returns>
    public static LandmarkPretrainingScore Score(ExpressionNetwork network, IReadOnlyList<ExpressionFace> faces, IReadOnlyList<int> points, CropSpec crop)
    {
        var predicted = Predict(network, faces, points, crop);
        var list = points.ToList();
        int i48 = list.IndexOf(48), i54 = list.IndexOf(54), i62 = list.IndexOf(62), i66 = list.IndexOf(66);
        if (i48 < 0 || i54 < 0 || i62 < 0 || i66 < 0)
        {
            throw new ArgumentException("Scoring needs the mouth corners (48, 54) and inner lips (62, 66).", nameof(points));
        }

        double errorSum = 0;
        var width = new List<(double P, double T)>();
        var opening = new List<(double P, double T)>();
        for (int f = 0; f < faces.Count; f++)
        {
            var truth = Truth(faces[f].Landmarks, list);
            for (int j = 0; j < truth.Length; j++)
            {
                errorSum += Math.Abs(predicted[f][j] - truth[j]);
            }

            width.Add((predicted[f][2 * i54] - predicted[f][2 * i48], truth[2 * i54] - truth[2 * i48]));
            opening.Add((predicted[f][(2 * i66) + 1] - predicted[f][(2 * i62) + 1], truth[(2 * i66) + 1] - truth[(2 * i62) + 1]));
        }

        return new LandmarkPretrainingScore(
            faces.Count,
            errorSum / (faces.Count * 2.0 * list.Count),
            Correlation(width),
            StandardDeviation(width.Select(w => w.P)) / Math.Max(1e-12, StandardDeviation(width.Select(w => w.T))),
            Correlation(opening));
    }

    /// <summary>Writes the network's backbone (the stages it runs) for <see cref="ExpressionNetworkOptions.InitialBackbonePath"/>.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="network">The pretrained network.</param>
    /// <param name="notes">Extra metadata, or null; keys may not start with <c>fkp.</c>.</param>
    public static void SaveBackbone(string path, ExpressionNetwork network, IReadOnlyDictionary<string, string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var metadata = ExpressionNetworkFile.NotesMetadata(notes, nameof(notes));

        metadata[StagesKey] = network.Stages.ToString(CultureInfo.InvariantCulture);
        WeightsFile.Save(path, BackboneTensors(network), metadata, CheckpointPrecision.Float32);
    }

    /// <summary>Loads a backbone written by <see cref="SaveBackbone"/> into a network with the same stage count.</summary>
    /// <param name="path">The file.</param>
    /// <param name="network">The network to fill (its classifier is left alone).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not such a backbone or has other stages.</exception>
    public static void LoadBackbone(string path, ExpressionNetwork network)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(network);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The pretrained backbone '{path}' does not exist.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var (metadata, _) = WeightsFile.ReadHeader(stream, path);
        if (!metadata.TryGetValue(StagesKey, out string? stages) || stages != network.Stages.ToString(CultureInfo.InvariantCulture))
        {
            throw new ModelFormatException(path, $"it is not a pretrained expression backbone with {network.Stages} stages ({StagesKey} is '{stages ?? "missing"}').");
        }

        WeightsFile.LoadInto(stream, path, BackboneTensors(network).ToDictionary(StringComparer.Ordinal));
    }

    private static IEnumerable<KeyValuePair<string, Tensor>> BackboneTensors(ExpressionNetwork network) =>
        network.state_dict().Where(kv => kv.Key.StartsWith("backbone.", StringComparison.Ordinal) && network.IsUsed(kv.Key));

    private static void Train(ExpressionNetwork network, IReadOnlyList<ExpressionFace> faces, int[] points, ExpressionNetworkOptions o, IReadOnlyList<ExpressionFace>? validation, IProgress<string>? progress)
    {
        var flip = LandmarkScheme.Ibug68.FlipPermutation;
        int width = 2 * points.Length;
        ExpressionNetworkTrainer.RunEpochs(
            network,
            faces,
            o,
            (output, indices, views) =>
            {
                // Targets follow the augmentation: the points in the perturbed frame, swapped and reflected when mirrored.
                var target = new float[indices.Length * width];
                for (int k = 0; k < indices.Length; k++)
                {
                    var landmarks = faces[indices[k]].Landmarks;
                    var (frame, mirror) = views[k];
                    for (int j = 0; j < points.Length; j++)
                    {
                        int source = mirror ? flip[points[j]] : points[j];
                        var (u, v) = frame.ToFace(landmarks[2 * source], landmarks[(2 * source) + 1]);
                        float nu = (u - o.Crop.CenterU) / (o.Crop.Extent / 2), nv = (v - o.Crop.CenterV) / (o.Crop.Extent / 2);
                        target[(k * width) + (2 * j)] = mirror ? -nu : nu;
                        target[(k * width) + (2 * j) + 1] = nv;
                    }
                }

                return nn.functional.l1_loss(output, tensor(target, [indices.Length, width]));
            },
            (epoch, lossSum, seen) =>
            {
                // The loss is in normalised crop units (half the crop's extent); report it in inter-ocular distances.
                string line = string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{o.Epochs} training MAE {lossSum / seen * o.Crop.Extent / 2:0.0000} IOD");
                if (validation is { Count: > 0 })
                {
                    line += "; validation " + Score(network, validation, points, o.Crop);
                }

                progress?.Report(line);
            });
    }

    private static float[] Truth(float[] landmarks, List<int> points)
    {
        var frame = FaceFrame.FromLandmarks(landmarks);
        var result = new float[2 * points.Count];
        for (int j = 0; j < points.Count; j++)
        {
            (result[2 * j], result[(2 * j) + 1]) = frame.ToFace(landmarks[2 * points[j]], landmarks[(2 * points[j]) + 1]);
        }

        return result;
    }

    private static int[] CheckPoints(IReadOnlyList<int>? points)
    {
        if (points is null || points.Count == 0)
        {
            throw new ArgumentException("Choose at least one landmark to regress.", nameof(points));
        }

        var flip = LandmarkScheme.Ibug68.FlipPermutation;
        var set = points.ToHashSet();
        if (set.Count != points.Count || points.Any(p => p < 0 || p >= LandmarkScheme.Ibug68.Count))
        {
            throw new ArgumentException("The landmarks must be distinct iBUG-68 indices (0-67).", nameof(points));
        }

        var open = points.Where(p => !set.Contains(flip[p])).ToList();
        if (open.Count > 0)
        {
            throw new ArgumentException($"The landmarks must map onto themselves under a horizontal flip; the mirror partners of {string.Join(", ", open)} are missing.", nameof(points));
        }

        return [.. points];
    }

    private static int[] MirrorIndex(int[] points)
    {
        var flip = LandmarkScheme.Ibug68.FlipPermutation;
        var position = points.Select((p, j) => (p, j)).ToDictionary(x => x.p, x => x.j);
        return [.. points.Select(p => position[flip[p]])];
    }

    private static double Correlation(List<(double P, double T)> pairs)
    {
        double mp = pairs.Average(x => x.P), mt = pairs.Average(x => x.T);
        double cov = pairs.Sum(x => (x.P - mp) * (x.T - mt));
        double vp = pairs.Sum(x => (x.P - mp) * (x.P - mp)), vt = pairs.Sum(x => (x.T - mt) * (x.T - mt));
        return vp <= 0 || vt <= 0 ? 0 : cov / Math.Sqrt(vp * vt);
    }

    private static double StandardDeviation(IEnumerable<double> values)
    {
        var list = values.ToList();
        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / list.Count);
    }
}
