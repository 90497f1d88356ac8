using System.Globalization;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Emotion;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Models.Export;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FacialKeypoints.EmotionFit;

/// <summary>
/// <c>--quantize-expression</c>: writes the float32 expression network again as static int8
/// (<see cref="OnnxExport.Quantize"/>), calibrated on the crops it reads at run time — our labelled frames, cut with
/// the model's own crop metadata from the given landmarks, as grey, each with its mirror image — and then compares the
/// two files' calls on every labelled frame, so the cost of the int8 arithmetic is printed next to the file it wrote.
/// </summary>
internal static class ExpressionQuantization
{
    public static int Run(EmotionFitSettings settings, string dataRoot, Action<string> log)
    {
        string source = settings.QuantizeExpression!;
        string target = settings.Export ?? throw new ArgumentException("--quantize-expression needs --export FILE: the int8 model to write.");
        string labelsPath = settings.LabelsPath ?? Path.Combine(dataRoot, "expression-labels", "training_expression_labels.csv");
        string imageDir = settings.ImageDirectory ?? Path.Combine(dataRoot, "facial-keypoints", "training");
        string landmarksPath = settings.LandmarksPath ?? Path.Combine(dataRoot, "facial-keypoints", "training_frames_keypoints.csv");
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"The float32 expression model '{source}' does not exist.", source);
        }

        var model = ModelInput.Read(source);
        var rows = ExpressionLabelCsv.Read(labelsPath).Where(r => r.Label is not null).ToList();
        var landmarks = ExpressionRefitter.ReadLandmarks(landmarksPath);
        var crops = new RgbImage[rows.Count];
        Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            string name = rows[i].Name;
            var points = landmarks.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"{landmarksPath}: no landmarks for '{name}' ({labelsPath}, line {rows[i].Line}).");
            using var image = new WarpSource(ImageDecoder.Decode(Path.Combine(imageDir, name)));
            crops[i] = model.Cut(image, points);
        });
        log($"{crops.Length} labelled faces cut ({model.Size} px, grey: {model.Grey}) from {labelsPath}");

        // Calibration: every k-th face (in the label file's order) and its mirror image.
        int count = Math.Min(settings.CalibrationCount, crops.Length);
        var chosen = Enumerable.Range(0, count).Select(k => crops[(int)((long)k * crops.Length / count)]).ToList();
        var calibration = chosen.Concat(chosen.Select(HorizontalFlip.MirrorImage)).ToList();
        OnnxExport.Quantize(source, target, new OnnxExportOptions { Precision = OnnxPrecision.Int8, CalibrationImages = calibration });
        log($"wrote {target} ({new FileInfo(target).Length / 1e6:0.0} MB; calibrated on {count} faces and their mirror images)");

        var input = model.Input(crops);
        var before = model.Classify(source, input, crops.Length);
        var after = model.Classify(target, input, crops.Length);
        int changed = 0, changedSeven = 0, rightBefore = 0, rightAfter = 0;
        for (int i = 0; i < crops.Length; i++)
        {
            changed += before[i].Three != after[i].Three ? 1 : 0;
            changedSeven += before[i].Seven != after[i].Seven ? 1 : 0;
            int truth = Array.IndexOf(model.ValenceLabels, rows[i].Label!.Value.ToName());
            rightBefore += before[i].Three == truth ? 1 : 0;
            rightAfter += after[i].Three == truth ? 1 : 0;
        }

        string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        log($"three-class calls changed by int8: {changed} of {crops.Length}; seven-class: {changedSeven}");
        log($"agreement with the labels (landmarks: {Path.GetFileName(landmarksPath)}): float32 {F((double)rightBefore / crops.Length)}, int8 {F((double)rightAfter / crops.Length)}");
        return 0;
    }

    /// <summary>What the expression model's metadata says about its input, read once from the float32 file.</summary>
    private sealed record ModelInput(int Size, bool Grey, bool MirrorAverage, CropSpec Crop, NormalizationSpec Normalization, int FirstValence, int FirstEmotion, string[] ValenceLabels)
    {
        public static ModelInput Read(string path)
        {
            using var session = new InferenceSession(path);
            var m = session.ModelMetadata.CustomMetadataMap;
            string Get(string key) => m.TryGetValue(key, out string? v) ? v : throw new InvalidDataException($"{path}: no '{key}' in the model's metadata (is it the expression network?).");
            float Number(string key) => float.Parse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture);
            float[] Numbers(string key) => [.. Get(key).Split(',').Select(v => float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture))];
            int First(string key) => int.Parse(Get(key).Split('-')[0], CultureInfo.InvariantCulture); // "first-last"
            int size = int.Parse(Get("fkp.input_width"), CultureInfo.InvariantCulture);
            return new ModelInput(
                size,
                Get("expression.greyscale") == "true",
                Get("expression.mirror_average") == "true",
                new CropSpec(Number("expression.crop.center_u"), Number("expression.crop.center_v"), Number("expression.crop.side"), size),
                new NormalizationSpec(Numbers("fkp.normalization.mean"), Numbers("fkp.normalization.std")),
                First("expression.valence.outputs"),
                First("expression.emotion.outputs"),
                Get("expression.valence.labels").Split(','));
        }

        /// <summary>The crop the pipeline cuts for this face; grey faces as luma in all three channels.</summary>
        public RgbImage Cut(WarpSource image, float[] landmarks)
        {
            var crop = FaceCrop.Extract(image, FaceFrame.FromLandmarks(landmarks, LandmarkScheme.Ibug68), Crop);
            if (Grey)
            {
                var luma = CropBank.ToGrey(crop);
                for (int i = 0; i < luma.Length; i++)
                {
                    crop.Pixels[3 * i] = crop.Pixels[(3 * i) + 1] = crop.Pixels[(3 * i) + 2] = luma[i];
                }
            }

            return crop;
        }

        /// <summary>The network input for the crops: each crop, then (when the model averages them) each mirror image.</summary>
        public float[] Input(IReadOnlyList<RgbImage> crops)
        {
            var views = MirrorAverage ? crops.Concat(crops.Select(HorizontalFlip.MirrorImage)).ToList() : [.. crops];
            int plane = 3 * Size * Size;
            var input = new float[views.Count * plane];
            for (int i = 0; i < views.Count; i++)
            {
                Normalization.WriteChannels(views[i], input.AsSpan(i * plane, plane));
            }

            return input;
        }

        /// <summary>The three-class and seven-class calls of a model file on <see cref="Input"/>'s tensor of <paramref name="n"/> faces.</summary>
        public (int Three, int Seven)[] Classify(string path, float[] input, int n)
        {
            using var options = new SessionOptions { IntraOpNumThreads = 2 };
            using var session = new InferenceSession(path, options);
            int views = MirrorAverage ? 2 * n : n;
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, new DenseTensor<float>(input, [views, 3, Size, Size]))]);
            var logits = results.First().AsEnumerable<float>().ToArray();
            int outputs = logits.Length / views;
            var calls = new (int, int)[n];
            for (int i = 0; i < n; i++)
            {
                var averaged = Enumerable.Range(0, outputs)
                    .Select(k => MirrorAverage ? (logits[(i * outputs) + k] + logits[((n + i) * outputs) + k]) / 2 : logits[(i * outputs) + k])
                    .ToArray();
                calls[i] = (ArgMax(averaged, FirstValence, 3), ArgMax(averaged, FirstEmotion, 7));
            }

            return calls;
        }

        private static int ArgMax(float[] values, int first, int count) =>
            Enumerable.Range(0, count).MaxBy(k => values[first + k]);
    }
}
