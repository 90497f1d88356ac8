using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FacialKeypoints.Core;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Emotion;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Models.Import;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit;

/// <summary>
/// Greyscale base crops of every face, kept in memory (one byte per pixel): the network's crop (<see cref="Crop"/>)
/// widened by a margin so that rotation, scale and shift augmentation stay inside real pixels. The centre
/// <see cref="Crop"/>.Size pixels of a base crop are exactly the network's crop (same sample points). Beside each
/// crop, its inside mask (255 where the crop samples the image, 0 where it falls outside and the resampler gives
/// black), so that training can fill those areas with other levels: the crop of nearly every FER, muxspace and
/// Taiwanese face reaches outside its image, and a network that only ever saw black there reads a face with real
/// surroundings differently (docs/emotion-results.md, "The black border of tight crops").
/// </summary>
internal sealed class CropBank
{
    /// <summary>The network's crop: whole face, brows to chin, in face-frame units (inter-ocular distances).</summary>
    public static readonly CropSpec Crop = new(0f, 0.55f, 2.1f, 64);

    /// <summary>The base crop's side in pixels (Crop.Size plus a margin on each side).</summary>
    public const int BaseSize = 80;

    /// <summary>Luma weights (ITU-R BT.601): the network reads Y = 0.299 R + 0.587 G + 0.114 B in all three channels.</summary>
    public static readonly float[] Luma = [0.299f, 0.587f, 0.114f];

    private readonly Dictionary<string, int> index = new(StringComparer.Ordinal);
    private readonly List<byte[]> crops = [];
    private readonly List<byte[]> masks = [];

    public static CropSpec Base => new(Crop.CenterU, Crop.CenterV, Crop.Extent * BaseSize / Crop.Size, BaseSize);

    public int Count => crops.Count;

    public bool Contains(string path) => index.ContainsKey(path);

    public byte[] this[string path] => crops[index[path]];

    /// <summary>The inside mask of a face's base crop: 255 where the crop samples the image, 0 outside it.</summary>
    public byte[] Inside(string path) => masks[index[path]];

    public void Add(string path, byte[] crop, byte[] inside)
    {
        if (index.TryGetValue(path, out int at))
        {
            crops[at] = crop;
            masks[at] = inside;
        }
        else
        {
            index[path] = crops.Count;
            crops.Add(crop);
            masks.Add(inside);
        }
    }

    /// <summary>The greyscale base crop of a face.</summary>
    public static byte[] Cut(RgbImage image, float[] landmarks)
    {
        using var source = new WarpSource(image);
        return ToGrey(FaceCrop.Extract(source, FaceFrame.FromLandmarks(landmarks, LandmarkScheme.Ibug68), Base));
    }

    /// <summary>The greyscale base crop of a face and its inside mask (the same cut of a white image).</summary>
    public static byte[] Cut(RgbImage image, float[] landmarks, out byte[] inside)
    {
        var white = new RgbImage(image.Width, image.Height);
        Array.Fill(white.Pixels, (byte)255);
        inside = Cut(white, landmarks);
        return Cut(image, landmarks);
    }

    public static byte[] ToGrey(RgbImage crop)
    {
        var grey = new byte[crop.Width * crop.Height];
        var p = crop.Pixels;
        for (int i = 0; i < grey.Length; i++)
        {
            grey[i] = (byte)Math.Clamp(MathF.Round((Luma[0] * p[3 * i]) + (Luma[1] * p[(3 * i) + 1]) + (Luma[2] * p[(3 * i) + 2])), 0, 255);
        }

        return grey;
    }

    /// <summary>
    /// Loads the bank from <paramref name="cacheDir"/> and cuts what is missing: faces with cached landmarks, and FER
    /// faces without them through the mean FER landmarks (FER faces are registered; "template" in the index, recut
    /// once their landmarks arrive). Faces with neither are left out.
    /// </summary>
    public static CropBank Build(IReadOnlyList<ExpressionItem> items, Dictionary<string, float[]> landmarks, string cacheDir, Action<string> log)
    {
        Directory.CreateDirectory(cacheDir);
        // Version 2: each record is the crop and its inside mask.
        string dataPath = Path.Combine(cacheDir, $"crops-{BaseSize}-v2.bin"), indexPath = Path.Combine(cacheDir, $"crops-{BaseSize}-v2.idx");
        var bank = new CropBank();
        var kinds = new Dictionary<string, string>(StringComparer.Ordinal);
        int pixels = BaseSize * BaseSize, record = 2 * pixels;
        if (File.Exists(indexPath) && File.Exists(dataPath))
        {
            var lines = File.ReadAllLines(indexPath);
            using var stream = File.OpenRead(dataPath);
            int usable = (int)Math.Min(lines.Length, stream.Length / record);
            for (int i = 0; i < usable; i++)
            {
                var buffer = new byte[record];
                stream.ReadExactly(buffer);
                var parts = lines[i].Split('\t');
                bank.Add(parts[0], buffer[..pixels], buffer[pixels..]);
                kinds[parts[0]] = parts[1];
            }
        }

        var ferTemplate = MeanLandmarks(items.Where(i => i.Source == "fer").Select(i => landmarks.GetValueOrDefault(i.Path)).OfType<float[]>().ToList());
        var todo = items.DistinctBy(i => i.Path)
            .Where(i => !kinds.TryGetValue(i.Path, out var kind) || (kind == "template" && landmarks.ContainsKey(i.Path)))
            .Where(i => landmarks.ContainsKey(i.Path) || (i.Source == "fer" && ferTemplate is not null))
            .ToList();
        log($"crops: {bank.Count} cached in {cacheDir}, {todo.Count} to cut");
        if (todo.Count == 0)
        {
            return bank;
        }

        using var data = new FileStream(dataPath, FileMode.Append);
        using var idx = new StreamWriter(indexPath, append: true);
        foreach (var chunk in todo.Chunk(512))
        {
            var cut = new byte[chunk.Length][];
            var inside = new byte[chunk.Length][];
            var kind = new string[chunk.Length];
            Parallel.For(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 }, k =>
            {
                var image = ImageDecoder.Decode(chunk[k].Path);
                bool known = landmarks.TryGetValue(chunk[k].Path, out var points);
                kind[k] = known ? "landmarks" : "template";
                cut[k] = Cut(image, known ? points! : ferTemplate!, out inside[k]);
            });
            for (int k = 0; k < chunk.Length; k++)
            {
                data.Write(cut[k]);
                data.Write(inside[k]);
                idx.WriteLine($"{chunk[k].Path}\t{kind[k]}");
                bank.Add(chunk[k].Path, cut[k], inside[k]);
            }

            data.Flush();
            idx.Flush();
        }

        log($"crops: {bank.Count} in the bank");
        return bank;
    }

    private static float[]? MeanLandmarks(List<float[]> all)
    {
        if (all.Count == 0)
        {
            return null;
        }

        var mean = new float[all[0].Length];
        foreach (var p in all)
        {
            for (int i = 0; i < mean.Length; i++)
            {
                mean[i] += p[i] / all.Count;
            }
        }

        return mean;
    }
}

/// <summary>Training, evaluation and export of the ten-logit expression network (issue 11).</summary>
internal static class ExpressionTraining
{
    /// <summary>Output layout: logits 0-2 the three classes, 3-9 the seven FER emotions.</summary>
    public const int ValenceCount = 3, EmotionCount = 7, OutputCount = ValenceCount + EmotionCount;

    /// <summary>Taiwanese performers held out of training (for the people-held-out figures): ids divisible by 3.</summary>
    public static bool IsHeldOutPerformer(ExpressionItem item) =>
        item.Source == "taiwanese" && int.Parse(item.Group[3..], CultureInfo.InvariantCulture) % 3 == 0;

    public static int Run(EmotionFitSettings settings, List<ExpressionItem> items, Action<string> log)
    {
        string cacheDir = settings.CacheDirectory;
        string landmarksCsv = settings.LandmarksCsv ?? Path.Combine(cacheDir, "landmarks.csv");
        var landmarks = ExpressionSources.ReadLandmarks(landmarksCsv);
        log($"{landmarks.Count} faces with cached landmarks");
        var bank = CropBank.Build(items, landmarks, cacheDir, log);
        if (settings.TrainExpression is { } runDir)
        {
            // The landmark cache may still be filling: each epoch takes the faces whose landmarks arrived since.
            var all = items;
            List<ExpressionItem> Refresh()
            {
                var latest = ExpressionSources.ReadLandmarks(landmarksCsv);
                bank = CropBank.Build(all, latest, cacheDir, log);
                return all.Where(i => bank.Contains(i.Path)).ToList();
            }

            return Train(settings, items.Where(i => bank.Contains(i.Path)).ToList(), () => bank, Refresh, runDir, log);
        }

        // The command line admits one expression command; the others returned before this point.
        string evalRun = settings.EvaluateExpression ?? throw new UnreachableException("No expression command was given.");
        return ExpressionEvaluation.Run(settings, items.Where(i => bank.Contains(i.Path)).ToList(), bank, landmarks, evalRun, log);
    }

    /// <summary>The training set: FER train, muxspace, the Taiwanese performers not held out. Our own frames are left
    /// to the head refit (cross-validated by identity), so the trunk never sees them.</summary>
    public static bool IsTrunkTraining(ExpressionItem i) => i.Source switch
    {
        "fer" => i.Split == "train",
        "muxspace" => true,
        "taiwanese" => !IsHeldOutPerformer(i),
        _ => false,
    };

    private static int Train(EmotionFitSettings settings, List<ExpressionItem> items, Func<CropBank> currentBank, Func<List<ExpressionItem>> refresh, string runDir, Action<string> log)
    {
        var bank = currentBank();
        Directory.CreateDirectory(runDir);
        int epochs = settings.ExpressionEpochs, batch = settings.ExpressionBatch, seed = settings.ExpressionSeed;
        double lr = settings.ExpressionLearningRate, wd = settings.ExpressionWeightDecay;
        int maxSteps = settings.MaxSteps;
        int muxPerClass = settings.MuxPerClass, taiwaneseRepeat = settings.TaiwaneseRepeat;
        var train = items.Where(IsTrunkTraining).ToList();
        var monitor = items.Where(i => i.Source == "fer" && i.Split == "val").OrderBy(i => ExpressionCommands.StableHash(i.Path)).Take(1000)
            .Concat(items.Where(IsHeldOutPerformer)).ToList();
        log($"train: {train.Count} faces ({string.Join(", ", train.GroupBy(i => i.Source).Select(g => $"{g.Key} {g.Count()}"))}); monitor: {monitor.Count}");

        // Class weights (inverse square root of frequency, mean 1) over what an epoch draws.
        var w3 = Weights(train.Select(i => i.Valence), ValenceCount);
        var w7 = Weights(train.Select(i => i.Emotion), EmotionCount);
        log($"class weights: valence {Fmt(w3)}; emotion {Fmt(w7)}");

        torch.manual_seed(seed);
        using var net = new ExpressionNetwork(3, OutputCount, settings.ExpressionDropout);
        ExpressionNetworkTrainer.LoadImageNetWeights(net, settings.ImageNetOnnx);
        int startEpoch = 0;
        string statePath = Path.Combine(runDir, "state.json");
        if (File.Exists(statePath))
        {
            startEpoch = JsonDocument.Parse(File.ReadAllText(statePath)).RootElement.GetProperty("completed_epochs").GetInt32();
            net.load(Path.Combine(runDir, "last.bin"));
            log($"resumed after epoch {startEpoch}");
        }

        using var optimizer = torch.optim.AdamW(net.parameters(), lr, weight_decay: wd);
        if (startEpoch > 0 && File.Exists(Path.Combine(runDir, "last-optimizer.bin")))
        {
            optimizer.load_state_dict(Path.Combine(runDir, "last-optimizer.bin"));
        }

        using var weight3 = torch.tensor(w3);
        using var weight7 = torch.tensor(w7);
        var rng = new Random(seed);
        int stepsPerEpoch = EpochItems(train, muxPerClass, taiwaneseRepeat, new Random(0)).Count / batch;
        int totalSteps = epochs * stepsPerEpoch, warmup = Math.Min(300, stepsPerEpoch / 2);
        int step = startEpoch * stepsPerEpoch;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int epoch = startEpoch; epoch < epochs; epoch++)
        {
            if (epoch > 0)
            {
                items = refresh();
                bank = currentBank();
                train = items.Where(IsTrunkTraining).ToList();
                stepsPerEpoch = EpochItems(train, muxPerClass, taiwaneseRepeat, new Random(0)).Count / batch;
                totalSteps = step + ((epochs - epoch) * stepsPerEpoch);
                log($"train: {train.Count} faces ({string.Join(", ", train.GroupBy(i => i.Source).Select(g => $"{g.Key} {g.Count()}"))})");
            }

            var epochRng = new Random(seed + (epoch * 7919));
            var order = EpochItems(train, muxPerClass, taiwaneseRepeat, epochRng);
            net.train();
            double lossSum = 0;
            int seen = 0;
            var epochClock = System.Diagnostics.Stopwatch.StartNew();
            for (int b = 0; b + batch <= order.Count; b += batch)
            {
                double rate = step < warmup ? lr * (step + 1) / warmup : lr * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, (step - warmup) / (double)Math.Max(1, totalSteps - warmup))));
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = rate;
                }

                var chunk = order.GetRange(b, batch);
                using (var scope = torch.NewDisposeScope())
                {
                    var input = Augment(chunk.Select(i => bank[i.Path]).ToList(), chunk.Select(i => bank.Inside(i.Path)).ToList(), epochRng, settings.BorderFill);
                    var logits = net.call(input);
                    var valence = torch.tensor(chunk.Select(i => (long)i.Valence).ToArray());
                    var emotion = torch.tensor(chunk.Select(i => (long)i.Emotion).ToArray());
                    var loss = nn.functional.cross_entropy(logits[.., ..ValenceCount], valence, weight3, ignore_index: -1);
                    if (chunk.Any(i => i.Emotion >= 0))
                    {
                        loss = loss + nn.functional.cross_entropy(logits[.., ValenceCount..], emotion, weight7, ignore_index: -1);
                    }

                    optimizer.zero_grad();
                    loss.backward();
                    nn.utils.clip_grad_norm_(net.parameters(), 5.0);
                    optimizer.step();
                    lossSum += loss.item<float>() * batch;
                    seen += batch;
                }

                step++;
                if (step % 50 == 0)
                {
                    log(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1}/{epochs} step {step}/{totalSteps} loss {lossSum / seen:0.000} lr {rate:0.00000} {seen / epochClock.Elapsed.TotalSeconds:0.0} img/s"));
                }

                if (maxSteps > 0 && step >= maxSteps)
                {
                    break;
                }
            }

            net.save(Path.Combine(runDir, "last.bin.tmp"));
            File.Move(Path.Combine(runDir, "last.bin.tmp"), Path.Combine(runDir, "last.bin"), overwrite: true);
            File.Copy(Path.Combine(runDir, "last.bin"), Path.Combine(runDir, $"epoch-{epoch + 1:D2}.bin"), overwrite: true);
            optimizer.save_state_dict(Path.Combine(runDir, "last-optimizer.bin"));
            File.WriteAllText(statePath, $"{{\"completed_epochs\": {epoch + 1}}}");
            var logits10 = Predict(net, monitor.Select(i => bank[i.Path]).ToList());
            string line = string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch + 1}: train loss {lossSum / Math.Max(1, seen):0.0000}; FER val (1000) 7-class {Accuracy(logits10, monitor, fer: true, valence: false):0.000} 3-class {Accuracy(logits10, monitor, fer: true, valence: true):0.000}; Taiwanese held-out 3-class {Accuracy(logits10, monitor, fer: false, valence: true):0.000}; {epochClock.Elapsed.TotalMinutes:0.0} min");
            log(line);
            File.AppendAllText(Path.Combine(runDir, "epochs.txt"), line + Environment.NewLine);
            if (maxSteps > 0 && step >= maxSteps)
            {
                break;
            }
        }

        log($"done in {clock.Elapsed.TotalMinutes:0.0} min");
        return 0;
    }

    /// <summary>One epoch's faces in random order: all FER train and muxspace faces of the rarer classes, up to
    /// <paramref name="muxPerClass"/> muxspace happy and neutral faces (drawn afresh each epoch), the training
    /// Taiwanese performers <paramref name="taiwaneseRepeat"/> times.</summary>
    private static List<ExpressionItem> EpochItems(List<ExpressionItem> train, int muxPerClass, int taiwaneseRepeat, Random rng)
    {
        var list = new List<ExpressionItem>();
        list.AddRange(train.Where(i => i.Source == "fer"));
        list.AddRange(train.Where(i => i.Source == "muxspace" && i.Emotion is not (3 or 6)));
        foreach (int common in new[] { 3, 6 })
        {
            list.AddRange(train.Where(i => i.Source == "muxspace" && i.Emotion == common).OrderBy(_ => rng.Next()).Take(muxPerClass));
        }

        for (int r = 0; r < taiwaneseRepeat; r++)
        {
            list.AddRange(train.Where(i => i.Source == "taiwanese"));
        }

        return list.OrderBy(_ => rng.Next()).ToList();
    }

    private static float[] Weights(IEnumerable<int> labels, int classes)
    {
        var counts = new double[classes];
        foreach (int l in labels)
        {
            if (l >= 0)
            {
                counts[l]++;
            }
        }

        var w = counts.Select(c => 1 / Math.Sqrt(Math.Max(c, 1))).ToArray();
        double mean = w.Average();
        return w.Select(x => (float)(x / mean)).ToArray();
    }

    private static string Fmt(float[] values) => string.Join(" ", values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)));

    /// <summary>
    /// A training batch from base crops: the areas outside the image (<paramref name="inside"/> = 0) filled with a
    /// random grey level for <paramref name="borderFill"/> of the faces (black for the rest, as the pipeline cuts them),
    /// so the border of a tight crop carries no class; random rotation (+-12 degrees), scale (+-10%), shift (+-6% of
    /// the crop), mirror; half the faces degraded to a random resolution of 16-48 px and back (blur and low resolution,
    /// as FER and small video faces); contrast, brightness and noise. Returns the normalised <c>[B, 3, 64, 64]</c> input.
    /// </summary>
    public static Tensor Augment(IReadOnlyList<byte[]> crops, IReadOnlyList<byte[]> inside, Random rng, double borderFill)
    {
        int n = crops.Count, b = CropBank.BaseSize, s = CropBank.Crop.Size;
        var pixels = FillOutside(crops, inside, rng, borderFill);

        var theta = new float[n * 6];
        float s0 = (float)s / b;
        for (int k = 0; k < n; k++)
        {
            double angle = (rng.NextDouble() - 0.5) * 24 * Math.PI / 180;
            double scale = s0 * Math.Exp((rng.NextDouble() - 0.5) * 0.2);
            double flip = rng.Next(2) == 0 ? 1 : -1;
            double tx = (rng.NextDouble() - 0.5) * 0.12 * s0 * 2, ty = (rng.NextDouble() - 0.5) * 0.12 * s0 * 2;
            theta[(6 * k) + 0] = (float)(scale * Math.Cos(angle) * flip);
            theta[(6 * k) + 1] = (float)(-scale * Math.Sin(angle));
            theta[(6 * k) + 2] = (float)tx;
            theta[(6 * k) + 3] = (float)(scale * Math.Sin(angle) * flip);
            theta[(6 * k) + 4] = (float)(scale * Math.Cos(angle));
            theta[(6 * k) + 5] = (float)ty;
        }

        var x = torch.tensor(pixels, [n, 1, b, b]);
        var grid = nn.functional.affine_grid(torch.tensor(theta, [n, 2, 3]), [n, 1, s, s], align_corners: false);
        var y = nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);

        int low = rng.Next(16, 49);
        var degraded = nn.functional.interpolate(nn.functional.adaptive_avg_pool2d(y, [low, low]), [s, s], mode: InterpolationMode.Bilinear, align_corners: false);
        var mask = torch.tensor(Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.5 ? 1f : 0f).ToArray(), [n, 1, 1, 1]);
        y = (mask * degraded) + ((1 - mask) * y);

        var contrast = torch.tensor(Enumerable.Range(0, n).Select(_ => (float)(0.6 + (0.8 * rng.NextDouble()))).ToArray(), [n, 1, 1, 1]);
        var brightness = torch.tensor(Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * 0.3)).ToArray(), [n, 1, 1, 1]);
        var noise = torch.tensor(Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 0.03)).ToArray(), [n, 1, 1, 1]);
        var mean = y.mean([1, 2, 3], keepdim: true);
        y = ((y - mean) * contrast) + mean + brightness + (noise * torch.randn_like(y));
        return Normalise(y.clamp(0, 1));
    }

    /// <summary>
    /// Base crops as unit grey values, one after another, with each crop's outside areas (inside mask 0, black in the
    /// crop) filled with one random level in [0, 1) for a <paramref name="share"/> of the crops and left black for
    /// the rest; partly covered edge pixels are blended.
    /// </summary>
    public static float[] FillOutside(IReadOnlyList<byte[]> crops, IReadOnlyList<byte[]> inside, Random rng, double share)
    {
        int n = crops.Count, b = CropBank.BaseSize;
        var pixels = new float[n * b * b];
        for (int k = 0; k < n; k++)
        {
            float fill = rng.NextDouble() < share ? (float)rng.NextDouble() : 0f;
            for (int i = 0; i < b * b; i++)
            {
                pixels[(k * b * b) + i] = (crops[k][i] / 255f) + ((1 - (inside[k][i] / 255f)) * fill);
            }
        }

        return pixels;
    }

    /// <summary>Unit grey <c>[B, 1, S, S]</c> to the network's normalised three-channel input.</summary>
    public static Tensor Normalise(Tensor grey) => ExpressionNetwork.Normalization.Apply(grey.expand(-1, 3, -1, -1).contiguous());

    /// <summary>The network's input for base crops without augmentation: their centre crop.</summary>
    public static Tensor CentreInput(IReadOnlyList<byte[]> crops, bool mirror = false)
    {
        int n = crops.Count, b = CropBank.BaseSize, s = CropBank.Crop.Size, m = (b - s) / 2;
        var pixels = new float[n * s * s];
        for (int k = 0; k < n; k++)
        {
            for (int y = 0; y < s; y++)
            {
                for (int x = 0; x < s; x++)
                {
                    pixels[(k * s * s) + (y * s) + x] = crops[k][((y + m) * b) + (mirror ? b - 1 - (x + m) : x + m)] / 255f;
                }
            }
        }

        return Normalise(torch.tensor(pixels, [n, 1, s, s]));
    }

    /// <summary>Logits <c>[n, 10]</c> of base crops (evaluation mode, no gradients).</summary>
    public static float[][] Predict(ExpressionNetwork net, IReadOnlyList<byte[]> crops, int batch = 128)
    {
        net.eval();
        var result = new List<float[]>();
        using var noGrad = torch.no_grad();
        for (int b = 0; b < crops.Count; b += batch)
        {
            using var scope = torch.NewDisposeScope();
            var chunk = crops.Skip(b).Take(batch).ToList();
            var logits = net.call(CentreInput(chunk)).data<float>().ToArray();
            for (int k = 0; k < chunk.Count; k++)
            {
                result.Add(logits.AsSpan(k * OutputCount, OutputCount).ToArray());
            }
        }

        return [.. result];
    }

    private static double Accuracy(float[][] logits, List<ExpressionItem> items, bool fer, bool valence)
    {
        int right = 0, total = 0;
        for (int i = 0; i < items.Count; i++)
        {
            if ((items[i].Source == "fer") != fer)
            {
                continue;
            }

            int truth = valence ? items[i].Valence : items[i].Emotion;
            if (truth < 0)
            {
                continue;
            }

            var span = valence ? logits[i].AsSpan(0, ValenceCount) : logits[i].AsSpan(ValenceCount, EmotionCount);
            int best = 0;
            for (int c = 1; c < span.Length; c++)
            {
                if (span[c] > span[best])
                {
                    best = c;
                }
            }

            total++;
            right += best == truth ? 1 : 0;
        }

        return total == 0 ? double.NaN : (double)right / total;
    }
}
