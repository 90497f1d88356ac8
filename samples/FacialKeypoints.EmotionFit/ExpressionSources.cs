using System.Globalization;
using System.Text;
using FacialKeypoints.Core;
using FacialKeypoints.Data;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.EmotionFit;

/// <summary>One labelled face of the expression training sets.</summary>
/// <param name="Source">fer, taiwanese, muxspace or ours.</param>
/// <param name="Path">The image file.</param>
/// <param name="Emotion">The FER emotion index (<see cref="Emotions"/>), or -1 when the source has no seven-class label.</param>
/// <param name="Valence">The three-class index (<see cref="Valences"/>), or -1 when not used for the three-class head.</param>
/// <param name="Group">Faces of one person share a group (for held-out-people splits); FER has one group per face.</param>
/// <param name="Split">train, val or test for FER; empty for the others.</param>
internal sealed record ExpressionItem(string Source, string Path, int Emotion, int Valence, string Group, string Split);

/// <summary>The labelled expression sets fetched by docs/tools/get-expression-data.sh, and their label mappings.</summary>
internal static class ExpressionSources
{
    /// <summary>The seven-class head's order (FER2013's).</summary>
    public static readonly string[] Emotions = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"];

    /// <summary>The three-class head's order.</summary>
    public static readonly string[] Valences = ["negative", "neutral", "positive"];

    /// <summary>The three-class index of a seven-class index: anger, disgust, fear, sadness negative; happiness positive;
    /// neutral and surprise neutral (docs/dataset.md gives the evidence for surprise).</summary>
    public static int ValenceOf(int emotion) => emotion switch
    {
        0 or 1 or 2 or 4 => 0,
        3 => 2,
        5 or 6 => 1,
        _ => -1,
    };

    /// <summary>Every labelled face under <paramref name="root"/> (the fetch script's DEST) plus our own labelled frames.</summary>
    public static List<ExpressionItem> Load(string root, string ourLabels, string ourImages)
    {
        var items = new List<ExpressionItem>();
        string fer = System.IO.Path.Combine(root, "fer2013");
        foreach (string split in new[] { "train", "val", "test" })
        {
            for (int e = 0; e < Emotions.Length; e++)
            {
                string dir = System.IO.Path.Combine(fer, split, Emotions[e]);
                foreach (string file in Directory.EnumerateFiles(dir, "*.jpg").Order(StringComparer.Ordinal))
                {
                    items.Add(new ExpressionItem("fer", file, e, ValenceOf(e), $"fer:{split}/{Emotions[e]}/{System.IO.Path.GetFileName(file)}", split));
                }
            }
        }

        // Taiwanese: PPTVL.jpg, P = performer, T = performance type, V = view, L = expression letter a-g. Nine files have
        // no letter (e.g. 1201002.jpg) and are left out.
        int[] letterToEmotion = [6, 3, 4, 0, 1, 2, 5]; // a neutral, b happy, c sad, d angry, e disgust, f fear, g surprise
        foreach (string file in Directory.EnumerateFiles(System.IO.Path.Combine(root, "taiwanese"), "*.jpg").Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileNameWithoutExtension(file);
            if (name.Length != 7 || name[4] < 'a' || name[4] > 'g')
            {
                continue;
            }

            int e = letterToEmotion[name[4] - 'a'];
            items.Add(new ExpressionItem("taiwanese", file, e, ValenceOf(e), "tw:" + name[..2], string.Empty));
        }

        // muxspace: data/legend.csv (user.id,image,emotion), labels in mixed case; contempt is negative for the three
        // classes and has no seven-class label.
        string mux = System.IO.Path.Combine(root, "muxspace");
        foreach (string line in File.ReadLines(System.IO.Path.Combine(mux, "data", "legend.csv")).Skip(1))
        {
            var parts = line.Split(',');
            if (parts.Length < 3)
            {
                continue;
            }

            string path = System.IO.Path.Combine(mux, "images", parts[1].Trim());
            if (!File.Exists(path))
            {
                continue;
            }

            string label = parts[2].Trim().ToLowerInvariant();
            int e = label switch
            {
                "anger" => 0,
                "disgust" => 1,
                "fear" => 2,
                "happiness" => 3,
                "sadness" => 4,
                "surprise" => 5,
                "neutral" => 6,
                _ => -1,
            };
            int v = label == "contempt" ? 0 : ValenceOf(e);
            if (v < 0)
            {
                continue;
            }

            string stem = System.IO.Path.GetFileNameWithoutExtension(parts[1].Trim());
            int underscore = stem.LastIndexOf('_');
            string person = underscore > 0 && stem[(underscore + 1)..].All(char.IsAsciiDigit) ? stem[..underscore] : stem;
            items.Add(new ExpressionItem("muxspace", path, e, v, "mux:" + person, string.Empty));
        }

        foreach (var row in ExpressionLabelCsv.Read(ourLabels))
        {
            if (row.Label is not { } label)
            {
                continue;
            }

            int v = label switch
            {
                ExpressionLabel.Negative => 0,
                ExpressionLabel.Neutral => 1,
                _ => 2,
            };
            items.Add(new ExpressionItem("ours", System.IO.Path.Combine(ourImages, row.Name), -1, v, "ours:" + SampleInfo.IdentityOf(row.Name), string.Empty));
        }

        return items;
    }

    /// <summary>Reads a landmark cache written by <see cref="CacheLandmarks"/>: path -> 136 image-pixel values.</summary>
    public static Dictionary<string, float[]> ReadLandmarks(string path)
    {
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return result;
        }

        foreach (string line in File.ReadLines(path))
        {
            var parts = line.Split(',');
            if (parts.Length != 137 || parts[0] == "path")
            {
                continue;
            }

            var values = new float[136];
            for (int i = 0; i < 136; i++)
            {
                values[i] = float.Parse(parts[i + 1], CultureInfo.InvariantCulture);
            }

            result[parts[0]] = values;
        }

        return result;
    }

    /// <summary>Padding (left/right, top, bottom, as fractions of the image side) that puts a tight face crop into the
    /// keypoint model's training framing; zero for sources already framed like it.</summary>
    public static (float Side, float Top, float Bottom) PaddingOf(string source, EmotionFitSettings settings)
    {
        return settings.Padding.TryGetValue(source, out var padding) ? padding : source switch
        {
            "fer" => (0.45f, 0.55f, 0.5f),
            "taiwanese" or "muxspace" => (0.35f, 0.4f, 0.35f),
            _ => (0f, 0f, 0f),
        };
    }

    /// <summary>The image padded by replicating its edge pixels, so a tight face crop sits in the keypoint model's framing.</summary>
    public static RgbImage Pad(RgbImage image, (float Side, float Top, float Bottom) pad, out int left, out int top)
    {
        left = (int)MathF.Round(pad.Side * image.Width);
        top = (int)MathF.Round(pad.Top * image.Height);
        int bottom = (int)MathF.Round(pad.Bottom * image.Height);
        if (left == 0 && top == 0 && bottom == 0)
        {
            return image;
        }

        int w = image.Width + (2 * left), h = image.Height + top + bottom;
        var output = new RgbImage(w, h);
        var src = image.Pixels;
        var dst = output.Pixels;
        for (int y = 0; y < h; y++)
        {
            int sy = Math.Clamp(y - top, 0, image.Height - 1);
            for (int x = 0; x < w; x++)
            {
                int sx = Math.Clamp(x - left, 0, image.Width - 1);
                int s = ((sy * image.Width) + sx) * 3, d = ((y * w) + x) * 3;
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }

        return output;
    }

    /// <summary>
    /// Predicts the landmarks of every face with the shipped keypoint model (no flip averaging) and appends them to a CSV
    /// (path,x0,y0,...,x67,y67 in the original image's pixels); faces already in the CSV are skipped, so a stopped run
    /// resumes. FER's 224 px images (48 px originals) are first halved, then padded into the model's framing.
    /// </summary>
    public static void CacheLandmarks(IReadOnlyList<ExpressionItem> items, string csvPath, string? modelPath, EmotionFitSettings settings, Action<string> log)
    {
        var done = ReadLandmarks(csvPath);
        var todo = items.Where(i => !done.ContainsKey(i.Path)).DistinctBy(i => i.Path).ToList();
        log($"landmarks: {done.Count} cached, {todo.Count} to predict -> {csvPath}");
        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath, FlipAverage = false, BatchSize = 16 });
        bool header = !File.Exists(csvPath);
        using var writer = new StreamWriter(csvPath, append: true, Encoding.UTF8);
        if (header)
        {
            writer.WriteLine("path," + string.Join(",", Enumerable.Range(0, 68).Select(i => $"x{i},y{i}")));
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        int count = 0;
        foreach (var chunk in todo.Chunk(16))
        {
            var prepared = new (RgbImage Image, float Scale, int Left, int Top)[chunk.Length];
            Parallel.For(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 }, k => prepared[k] = Prepare(chunk[k], settings));
            var predictions = predictor.Predict(prepared.Select(p => p.Image).ToList());
            var line = new StringBuilder();
            for (int k = 0; k < chunk.Length; k++)
            {
                var (_, scale, left, top) = prepared[k];
                var points = predictions[k].Keypoints;
                line.Clear().Append(chunk[k].Path);
                for (int i = 0; i < points.Length; i += 2)
                {
                    float x = (points[i] - left) / scale, y = (points[i + 1] - top) / scale;
                    line.Append(',').Append(x.ToString("0.##", CultureInfo.InvariantCulture)).Append(',').Append(y.ToString("0.##", CultureInfo.InvariantCulture));
                }

                writer.WriteLine(line.ToString());
            }

            writer.Flush();
            count += chunk.Length;
            if (count % 1024 < 16)
            {
                log($"landmarks: {count}/{todo.Count}, {clock.Elapsed.TotalMilliseconds / count:0.0} ms per face");
            }
        }

        log($"landmarks: done, {count} faces in {clock.Elapsed.TotalMinutes:0.0} min");
    }

    /// <summary>The image the keypoint model reads for an item: FER halved (its 224 px are a 48 px face upscaled) and padded.</summary>
    public static (RgbImage Image, float Scale, int Left, int Top) Prepare(ExpressionItem item, EmotionFitSettings settings)
    {
        var image = ImageDecoder.Decode(item.Path);
        float scale = 1f;
        if (image.Width > 160 && item.Source == "fer")
        {
            scale = 0.5f;
            image = ImageWarp.Warp(image, image.Width / 2, image.Height / 2, AffineMatrix.Scaling(0.5f, 0.5f));
        }

        var padded = Pad(image, PaddingOf(item.Source, settings), out int left, out int top);
        return (padded, scale, left, top);
    }
}
