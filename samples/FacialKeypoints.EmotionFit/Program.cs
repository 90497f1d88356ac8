using System.Diagnostics;
using System.Globalization;
using System.Text;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Emotion;
using FacialKeypoints.EmotionFit;
using FacialKeypoints.EmotionFit.Fitting;
using static TorchSharp.torch;

// EmotionFit: refit the learned expression classifier from a label CSV and measure it with identity-grouped CV.
//
//   dotnet run -c Release --project samples/FacialKeypoints.EmotionFit -- [options]
//
//   --data DIR            dataset root holding facial-keypoints/ and expression-labels/ (default: $FKP_DATA or ../shared/data)
//   --labels CSV          name,label CSV (default: DIR/expression-labels/training_expression_labels.csv)
//   --images DIR          image folder (default: DIR/facial-keypoints/training)
//   --landmarks CSV       landmarks the model is FITTED on (default: DIR/facial-keypoints/training_frames_keypoints.csv)
//   --eval-landmarks CSV  landmarks the held-out faces are SCORED with, e.g. predictions (header name,x0,y0,...); default: --landmarks
//   --jitter F            also score with evaluation landmarks jittered by Gaussian noise of F * inter-ocular distance (default 0.03; 0 = off)
//   --train-jitter N      add N jittered copies of each training face when fitting (default 0)
//   --search              cross-validate a grid of designs, not only the chosen one
//   --out FILE            where to write the fitted parameters (default: expression-model.json)
//   --report FILE         where to write the Markdown report (default: emotion-report.md)
//   --threads N           torch threads (default 1)
//   --keypoint-model FILE the keypoint checkpoint for --backbone keypoint|both (default: the shipped model beside the app)
//   plus fit settings:    --geometry true|false --photometric true|false --appearance true|false
//                         --backbone imagenet|keypoint|both --crop face224|lower|whole|u,v,extent,size --pooling NAME --mirror true|false
//                         --l2 X --class-weight-power X --appearance-weight X --negative exclude|learn
//   --network             the convolutional classifier instead: cross-validate it (skip with --no-cv), and with
//                         --out-network FILE fit it on every labelled face and write it (--add-member appends it to
//                         the networks already in FILE, whose probabilities are averaged); --cv-out CSV writes the
//                         out-of-fold probabilities, --net-gallery DIR contact sheets of its calls.
//                         Settings: --net-crop u,v,extent,size --stages 3|4
//                         --first-trained N --epochs N --batch N --lr X --wd X --dropout X --class-weight-power X
//                         --rotation DEG --scale X --translation X --color-jitter X --seed N --init BACKBONE
//   --oof-gallery DIR     contact sheets (found, missed, false alarms) of the average of --oof A.csv,B.csv,...
//                         (files written by --cv-out), without fitting anything
//   --pretrain-out FILE   first pretrain the backbone on landmarks (--pretrain-landmarks CSV, default the training
//                         keypoints; labelled images left out; --pretrain-validation 0.1 of identities scored) and
//                         write it; with --network the network then starts from it. Settings as above with pt-:
//                         --pt-epochs N --pt-lr X --pt-first-trained N --pt-net-crop ... (defaults 8, 1e-3, 2)
//
// Issue 11, the ten-logit expression network (ExpressionCommands.cs, ExpressionTraining.cs, ExpressionEvaluation.cs;
// data from docs/tools/get-expression-data.sh in --expression-data DIR, default /work/data-extra/expression):
//   --landmark-gallery PNG  landmarks of a few faces per source, to check the padding into the keypoint framing
//   --cache-landmarks CSV   predict and cache landmarks of every fetched face (resumable) --keypoint-model FILE
//   --train-expression DIR  train it (--epochs 4 --batch 64 --lr 1e-3 --wd 1e-4 --dropout 0.2 --seed 11
//                           --mux-per-class 2000 --taiwanese-repeat 2 --max-steps N --cache-dir DIR)
//   --evaluate-expression DIR  evaluate DIR/last.bin (--weights FILE): FER test, held-out Taiwanese people, our frames
//                           (head refit, identity-grouped CV: --replay-weight X --refit-l2 X, --refit-grid, or
//                           --finetune-steps N), temperatures, colour check; --mirror-average, --report MD,
//                           --gallery PNG, --export ONNX
if (args.Any(a => a is "--help" or "-h"))
{
    // The usage is the comment block at the top of this file; print it rather than run a fit by accident.
    Console.WriteLine("FacialKeypoints.EmotionFit: refit the learned expression classifier and report cross-validated results.");
    Console.WriteLine("  --labels CSV --images DIR --landmarks CSV --eval-landmarks CSV --jitter F --train-jitter N --search");
    Console.WriteLine("  --out FILE (default expression-model.json) --report FILE (default emotion-report.md) --threads N");
    Console.WriteLine("  --keypoint-model FILE (for --backbone keypoint|both)");
    Console.WriteLine("  --network [--no-cv] [--out-network FILE [--add-member]] [--cv-out CSV] [--net-gallery DIR]: the convolutional classifier");
    Console.WriteLine("  --pretrain-out FILE [--pretrain-landmarks CSV] [--pt-epochs N ...]: pretrain its backbone on landmarks first");
    Console.WriteLine("                --net-crop u,v,extent,size --stages 3|4 --first-trained N --epochs N --batch N --lr X --wd X");
    Console.WriteLine("                --dropout X --class-weight-power X --rotation DEG --scale X --translation X --color-jitter X --seed N");
    Console.WriteLine("  fit settings: --geometry --photometric --appearance --backbone imagenet|keypoint|both");
    Console.WriteLine("                --crop face224|lower|whole|u,v,extent,size --pooling NAME --mirror --l2 X");
    Console.WriteLine("                --class-weight-power X --appearance-weight X --negative exclude|learn");
    Console.WriteLine("  expression network (issue 11): --landmark-gallery PNG | --cache-landmarks CSV | --train-expression DIR | --evaluate-expression DIR");
    Console.WriteLine("See the comment at the top of samples/FacialKeypoints.EmotionFit/Program.cs and docs/emotion-results.md.");
    return 0;
}

var settings = ParseArguments(args);
TorchRuntime.EnsureInitialized();
set_num_threads(int.Parse(settings.GetValueOrDefault("threads", "1"), CultureInfo.InvariantCulture));
if (FacialKeypoints.EmotionFit.ExpressionCommands.Keys.Any(settings.ContainsKey))
{
    return FacialKeypoints.EmotionFit.ExpressionCommands.Run(settings, settings.GetValueOrDefault("data") ?? FindDataRoot());
}

string dataRoot = settings.GetValueOrDefault("data") ?? FindDataRoot();
string labelsPath = settings.GetValueOrDefault("labels") ?? Path.Combine(dataRoot, "expression-labels", "training_expression_labels.csv");
string imageDir = settings.GetValueOrDefault("images") ?? Path.Combine(dataRoot, "facial-keypoints", "training");
string landmarksPath = settings.GetValueOrDefault("landmarks") ?? Path.Combine(dataRoot, "facial-keypoints", "training_frames_keypoints.csv");
string? evalLandmarksPath = settings.GetValueOrDefault("eval-landmarks");
double jitter = double.Parse(settings.GetValueOrDefault("jitter", "0.03"), CultureInfo.InvariantCulture);
int trainJitter = int.Parse(settings.GetValueOrDefault("train-jitter", "0"), CultureInfo.InvariantCulture);
string outPath = settings.GetValueOrDefault("out", "expression-model.json");
string reportPath = settings.GetValueOrDefault("report", "emotion-report.md");
var chosen = FitOptionsFrom(settings, new ExpressionFitOptions());

var clock = Stopwatch.StartNew();
void Log(string message) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");

// The plain refit: the library's refitter with the chosen settings, the report and the parameter file.
if (!new[] { "search", "gallery", "network", "pretrain-out", "oof-gallery" }.Any(settings.ContainsKey))
{
    var result = ExpressionRefitter.Run(
        new ExpressionRefitRequest
        {
            LabelsPath = labelsPath,
            ImageDirectory = imageDir,
            LandmarksPath = landmarksPath,
            EvaluationLandmarksPath = evalLandmarksPath,
            KeypointModelPath = settings.GetValueOrDefault("keypoint-model"),
            FitOptions = chosen,
            JitterFraction = jitter,
        },
        new ConsoleProgress(Log));
    result.Parameters.Save(outPath);
    if (settings.TryGetValue("cv-out", out var learnedCvOut))
    {
        WriteOutOfFold(learnedCvOut, result.Names, result.LearnedPredictions);
        Log($"wrote {learnedCvOut}");
    }

    Log($"rule: {result.Rule}");
    Log($"always neutral: {result.AlwaysNeutral}");
    Log($"learned: {result.Learned}");
    Log($"wrote {outPath} ({new FileInfo(outPath).Length / 1024.0:0.0} KB)");
    File.WriteAllText(reportPath, $"Settings: {chosen.Describe()}\n\n" + result.ToMarkdown(jitter));
    Log($"wrote {reportPath}");
    return 0;
}

// Experiments (--search, --gallery): features are cached so that many designs can be cross-validated.
// 1. Labels joined with landmarks and images.
var labelRows = ExpressionLabelCsv.Read(labelsPath);
var usable = labelRows.Where(r => r.Label is not null).ToList();
Log($"{labelRows.Count} labels in {labelsPath}: {string.Join(", ", labelRows.GroupBy(r => r.Label?.ToName() ?? "unclear").Select(g => $"{g.Key} {g.Count()}"))}; {labelRows.Count - usable.Count} unclear excluded.");
var trainLandmarks = ExpressionRefitter.ReadLandmarks(landmarksPath);
var evalLandmarks = evalLandmarksPath is null ? trainLandmarks : ExpressionRefitter.ReadLandmarks(evalLandmarksPath);
string evalSource = evalLandmarksPath is null ? $"ground truth ({Path.GetFileName(landmarksPath)})" : $"predictions ({Path.GetFileName(evalLandmarksPath)})";

var names = usable.Select(r => r.Name).ToList();
var labels = usable.Select(r => r.Label!.Value).ToList();
var identities = names.Select(SampleInfo.IdentityOf).ToList();
var images = new RgbImage[names.Count];
Parallel.For(0, names.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => images[i] = ImageDecoder.Decode(Path.Combine(imageDir, names[i])));
var fitPoints = names.Select(n => Lookup(trainLandmarks, n, landmarksPath)).ToList();
var evalPoints = names.Select(n => Lookup(evalLandmarks, n, evalLandmarksPath ?? landmarksPath)).ToList();
var jitterPoints = jitter > 0 ? evalPoints.Select((p, i) => ExpressionRefitter.Jitter(p, jitter, 1000 + i)).ToList() : null;
var trainJitterPoints = Enumerable.Range(0, trainJitter).Select(k => fitPoints.Select((p, i) => ExpressionRefitter.Jitter(p, jitter > 0 ? jitter : 0.03, (k + 1) * 100_000 + i)).ToList()).ToList();
bool trainMirror = settings.ContainsKey("train-mirror");
var mirroredImages = trainMirror ? images.Select(FacialKeypoints.Data.Transforms.HorizontalFlip.MirrorImage).ToArray() : [];
var mirroredPoints = trainMirror ? fitPoints.Select((p, i) => FacialKeypoints.Data.Transforms.HorizontalFlip.FlipKeypoints(p, images[i].Width, LandmarkScheme.Ibug68)).ToList() : [];
Log($"{names.Count} faces ({identities.Distinct().Count()} identities) with images; scored with {evalSource}.");

// Contact sheets of found smiles, missed smiles and false alarms, each tile captioned with its positive probability
// (out-of-fold), cropped at the evaluation landmarks.
void WriteCallSheets(string folder, IReadOnlyList<float> positive)
{
    Directory.CreateDirectory(folder);
    var sheetCrop = new CropSpec(0f, 0.45f, 2.2f, 128);
    void Sheet(string file, IEnumerable<int> indices)
    {
        var tiles = indices.OrderByDescending(i => positive[i]).Take(32)
            .Select(i => new FacialKeypoints.Core.Drawing.GalleryTile(AlignedCrop.Extract(images[i], evalPoints[i], sheetCrop), [], string.Create(CultureInfo.InvariantCulture, $"p+ {positive[i]:0.00}"))).ToList();
        FacialKeypoints.Core.Drawing.KeypointOverlay.SavePng(FacialKeypoints.Core.Drawing.KeypointOverlay.Gallery(tiles, 8, 128), Path.Combine(folder, file));
    }

    var all = Enumerable.Range(0, names.Count).ToList();
    Sheet("positive-found.png", all.Where(i => labels[i] == ExpressionLabel.Positive && positive[i] >= 0.5f));
    Sheet("positive-missed.png", all.Where(i => labels[i] == ExpressionLabel.Positive && positive[i] < 0.5f));
    Sheet("not-positive-called-positive.png", all.Where(i => labels[i] != ExpressionLabel.Positive && positive[i] >= 0.5f));
    Log($"wrote contact sheets to {folder}");
}

// --oof-gallery DIR --oof A.csv,B.csv: contact sheets of the average of out-of-fold files (--cv-out) without refitting.
if (settings.TryGetValue("oof-gallery", out var oofGallery))
{
    var files = (settings.GetValueOrDefault("oof") ?? throw new ArgumentException("--oof-gallery needs --oof A.csv[,B.csv...] (files written by --cv-out).")).Split(',');
    var tables = files.Select(f => File.ReadLines(f).Skip(1).Select(line => line.Split(',')).ToDictionary(c => c[0], c => float.Parse(c[3], CultureInfo.InvariantCulture), StringComparer.Ordinal)).ToList();
    WriteCallSheets(oofGallery, [.. names.Select(n => tables.Average(t => t.TryGetValue(n, out float p) ? p : throw new ArgumentException($"{n} is missing from an --oof file.")))]);
    return 0;
}

// --pretrain: teach a network's backbone the face's shape from a keypoint CSV (landmarks in the face frame of the
// aligned crop), leaving out the labelled images so that cross-validation never scores a face it was pretrained on.
if (settings.TryGetValue("pretrain-out", out var pretrainOut))
{
    string keypointsPath = settings.GetValueOrDefault("pretrain-landmarks") ?? Path.Combine(dataRoot, "facial-keypoints", "training_frames_keypoints.csv");
    var labelled = labelRows.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
    var table = ExpressionRefitter.ReadLandmarks(keypointsPath);
    var pool = table.Keys.Where(n => !labelled.Contains(n)).Order(StringComparer.Ordinal).ToList();
    var split = DatasetSplits.ByIdentity([.. pool.Select(SampleInfo.IdentityOf)], double.Parse(settings.GetValueOrDefault("pretrain-validation", "0.1"), CultureInfo.InvariantCulture), seed: 0);
    var poolImages = new RgbImage[pool.Count];
    Parallel.For(0, pool.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => poolImages[i] = ImageDecoder.Decode(Path.Combine(imageDir, pool[i])));
    List<ExpressionFace> FacesOf(IEnumerable<int> rows) => [.. rows.Select(i => new ExpressionFace(poolImages[i], table[pool[i]]))];
    var pretrainOptions = new LandmarkPretrainingOptions { Network = NetworkOptionsFrom(settings, new LandmarkPretrainingOptions().Network, "pt-") };
    Log($"pretraining on {split.Train.Count} faces, validating on {split.Validation.Count} (identity split; {labelled.Count} labelled images left out): {pretrainOptions.Network.Describe()}");
    using var pretrained = LandmarkPretraining.Fit(FacesOf(split.Train), pretrainOptions, FacesOf(split.Validation), progress: new ConsoleProgress(Log));
    LandmarkPretraining.SaveBackbone(pretrainOut, pretrained, new Dictionary<string, string>
    {
        ["fit"] = pretrainOptions.Network.Describe(),
        ["landmarks"] = Path.GetFileName(keypointsPath),
        ["faces"] = split.Train.Count.ToString(CultureInfo.InvariantCulture),
    });
    Log($"wrote {pretrainOut}");
    if (!settings.ContainsKey("network"))
    {
        return 0;
    }

    settings["init"] = pretrainOut;
}

// --network: cross-validate (and fit) the convolutional classifier on aligned crops.
if (settings.ContainsKey("network"))
{
    var networkOptions = NetworkOptionsFrom(settings);
    Log($"network: {networkOptions.Describe()}");
    var fitFaces = names.Select((_, i) => new ExpressionFace(images[i], fitPoints[i])).ToList();
    var scoreFaces = names.Select((_, i) => new ExpressionFace(images[i], evalPoints[i])).ToList();
    if (!settings.ContainsKey("no-cv"))
    {
        var cv = ExpressionNetworkTrainer.CrossValidate(fitFaces, scoreFaces, labels, identities, networkOptions, progress: new ConsoleProgress(Log));
        Log($"network CV: {cv.Matrix}");
        if (settings.TryGetValue("cv-out", out var cvOut))
        {
            WriteOutOfFold(cvOut, names, cv.Predictions);
            Log($"wrote {cvOut}");
        }

        if (settings.TryGetValue("net-gallery", out var netGallery))
        {
            WriteCallSheets(netGallery, [.. cv.Predictions.Select(p => p.Probabilities[ExpressionLabel.Positive])]);
        }

        File.WriteAllText(reportPath, $"Network settings: {networkOptions.Describe()}\n\nLandmarks scored with: {evalSource}. Identity-grouped 5-fold CV, seed 0.\n\n" + cv.Matrix.ToMarkdown());
        Log($"wrote {reportPath}");
    }

    if (settings.TryGetValue("out-network", out var networkPath))
    {
        // The shipped network: fitted on every labelled face, written with its settings (appended as a further member
        // of an existing model with --add-member, so ensembles are fitted one network at a time), then reloaded as a check.
        var (network, classes) = ExpressionNetworkTrainer.Fit(fitFaces, labels, networkOptions, progress: new ConsoleProgress(line => Log($"all faces: {line}")));
        var spec = new ExpressionNetworkSpec(networkOptions.Stages, classes, networkOptions.Crop, networkOptions.MirrorAverage);
        var members = new List<ExpressionNetwork>();
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (settings.ContainsKey("add-member") && File.Exists(networkPath))
        {
            var existing = ExpressionNetworkFile.Load(networkPath);
            if (existing.Spec.Stages != spec.Stages || existing.Spec.Crop != spec.Crop || existing.Spec.MirrorAverage != spec.MirrorAverage || !existing.Spec.Classes.SequenceEqual(spec.Classes))
            {
                throw new ArgumentException($"{networkPath} holds networks of another design ({existing.Spec}); a member must match it.");
            }

            members.AddRange(existing.Members);
            foreach (var (key, value) in existing.Notes)
            {
                notes[key] = value;
            }
        }

        members.Add(network);
        string member = $"member{members.Count - 1}";
        notes[$"{member}.fit"] = networkOptions.Describe();
        notes[$"{member}.labels"] = Path.GetFileName(labelsPath);
        notes[$"{member}.landmarks"] = Path.GetFileName(landmarksPath);
        notes[$"{member}.classCounts"] = string.Join(", ", classes.Select(c => $"{c.ToName()}={labels.Count(l => l == c)}"));
        using (var model = new ExpressionNetworkModel(members, spec, notes))
        {
            ExpressionNetworkFile.Save(networkPath, model);
            var before = model.Predict(scoreFaces, batchSize: 32);
            using var reloaded = new NetworkExpressionClassifier(new NetworkExpressionOptions { NetworkPath = networkPath });
            var after = reloaded.ClassifyBatch([.. scoreFaces.Select(f => new ExpressionInput(f.Landmarks, f.Image))]);
            double worst = before.Zip(after).Max(p => Math.Abs(p.First.Probabilities[ExpressionLabel.Positive] - p.Second.Probabilities[ExpressionLabel.Positive]));
            Log($"wrote {networkPath} ({members.Count} member(s), {new FileInfo(networkPath).Length / 1048576.0:0.0} MB); reloaded, largest positive-probability change {worst:0.00000}; on the faces it was fitted on: {ConfusionMatrix.From(labels, [.. after.Select(p => p.Label)])}");
        }
    }

    return 0;
}

// 2. Baselines on the evaluation landmarks.
var rule = new HeuristicExpressionClassifier();
var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"Labels: {labelsPath} ({names.Count} faces after excluding {labelRows.Count - usable.Count} unclear, {identities.Distinct().Count()} identities). Landmarks scored with: {evalSource}. Identity-grouped 5-fold CV, seed 0.");
report.AppendLine();
void Section(string title, ConfusionMatrix matrix)
{
    Log($"{title}: {matrix}");
    report.AppendLine(CultureInfo.InvariantCulture, $"### {title}");
    report.AppendLine();
    report.AppendLine(matrix.ToMarkdown());
}

var ruleInputs = names.Select((n, i) => new ExpressionInput(evalPoints[i], images[i])).ToList();
Section("Reference rule (224x224 frame)", ConfusionMatrix.From(labels, [.. rule.ClassifyBatch(ruleInputs).Select(p => p.Label)]));
if (jitterPoints is not null)
{
    Section($"Reference rule, landmarks jittered by {jitter:0.###} IOD", ConfusionMatrix.From(labels, [.. rule.ClassifyBatch([.. jitterPoints.Select((p, i) => new ExpressionInput(p, images[i]))]).Select(p => p.Label)]));
}

Section("Always neutral", ConfusionMatrix.From(labels, [.. labels.Select(_ => ExpressionLabel.Neutral)]));

// 3. Features, cached per crop design and landmark set.
{
    var g = fitPoints.Select(p => GeometryFeatures.Compute(p)).ToList();
    string Mean(string name) => g.Average(f => f[GeometryFeatures.Names.ToList().IndexOf(name)]).ToString("0.00", CultureInfo.InvariantCulture);
    Log($"mean face frame: brow p19_v {Mean("p19_v")}, mouth corners p48_u {Mean("p48_u")} p54_u {Mean("p54_u")}, p51_v {Mean("p51_v")}, p57_v {Mean("p57_v")}, chin p8_v {Mean("p8_v")}");
}

// Every pooling is a slice of layer3grid2+layer4 (the layer3 average is the mean of its four equal cells), so one pass serves all.
// Several backbones are cached one by one and concatenated, so "imagenet+keypoint" reuses both single-backbone runs.
var extractors = new Dictionary<(CropSpec, bool, AppearancePooling, AppearanceBackbone), AppearanceFeatureExtractor>();
var appearanceCache = new Dictionary<(CropSpec, bool, AppearancePooling, AppearanceBackbone, string), float[][]>();
float[][] Appearance(CropSpec crop, bool mirror, AppearancePooling pooling, AppearanceBackbone backbone, string set, List<float[]> points)
{
    var parts = AppearanceNames.Parts(backbone);
    if (parts.Count > 1)
    {
        var blocks = parts.Select(b => Appearance(crop, mirror, pooling, b, set, points)).ToList();
        return [.. Enumerable.Range(0, points.Count).Select(i => blocks.SelectMany(b => b[i]).ToArray())];
    }

    var family = AppearanceNames.UsesLandmarks(pooling) ? pooling : AppearancePooling.Layer3Grid2AndLayer4;
    if (!appearanceCache.TryGetValue((crop, mirror, family, backbone, set), out var cached))
    {
        if (!extractors.TryGetValue((crop, mirror, family, backbone), out var extractor))
        {
            extractors[(crop, mirror, family, backbone)] = extractor = new AppearanceFeatureExtractor(crop, mirror, family, backbone: backbone, keypointModelPath: settings.GetValueOrDefault("keypoint-model"));
        }

        var sw = Stopwatch.StartNew();
        var source = set == "train-mirror" ? mirroredImages : images;
        cached = extractor.Extract([.. source.Select((img, i) => (img, points[i]))]);
        appearanceCache[(crop, mirror, family, backbone, set)] = cached;
        Log($"appearance features {crop} mirror={mirror} {AppearanceNames.ToName(family)} {AppearanceNames.ToName(backbone)} on {set} landmarks: {sw.Elapsed.TotalSeconds:0.0}s");
    }

    return family == pooling ? cached : [.. cached.Select(f => Slice(f, pooling))];
}

static float[] Slice(float[] full, AppearancePooling pooling)
{
    if (pooling == AppearancePooling.Layer3Grid2AndLayer4)
    {
        return full;
    }

    var layer4 = full.AsSpan(1024, 512).ToArray();
    if (pooling == AppearancePooling.Layer4)
    {
        return layer4;
    }

    var layer3 = new float[256];
    for (int c = 0; c < 256; c++)
    {
        layer3[c] = (full[4 * c] + full[(4 * c) + 1] + full[(4 * c) + 2] + full[(4 * c) + 3]) / 4;
    }

    return [.. layer3, .. layer4];
}

float[][] Features(ExpressionFitOptions o, string set, List<float[]> points)
{
    var appearance = o.UseAppearance ? Appearance(o.Crop, o.AverageMirror, o.Pooling, o.Backbone, set, points) : null;
    var photometric = o.UsePhotometric ? Photometric(set, points) : null;
    return [.. points.Select((p, i) => ExpressionFeatureVector.Combine(o.UseGeometry ? GeometryFeatures.Compute(p) : null, photometric?[i], appearance?[i]))];
}

var photometricCache = new Dictionary<string, float[][]>();
float[][] Photometric(string set, List<float[]> points)
{
    if (!photometricCache.TryGetValue(set, out var cached))
    {
        var source = set == "train-mirror" ? mirroredImages : images;
        photometricCache[set] = cached = [.. points.Select((p, i) => PhotometricFeatures.Compute(source[i], p))];
    }

    return cached;
}

(ConfusionMatrix Clean, ConfusionMatrix? Jittered) Evaluate(ExpressionFitOptions o)
{
    var train = Features(o, "fit", fitPoints);
    var eval = ReferenceEquals(evalPoints, fitPoints) || evalLandmarksPath is null ? train : Features(o, "eval", evalPoints);
    IReadOnlyList<IReadOnlyList<float[]>>? extra = null;
    if (trainJitter > 0 || trainMirror)
    {
        var copies = trainJitterPoints.Select((pts, k) => Features(o, $"train-jitter-{k}", pts)).ToList();
        if (trainMirror)
        {
            copies.Add(Features(o, "train-mirror", mirroredPoints));
        }

        extra = [.. Enumerable.Range(0, names.Count).Select(i => (IReadOnlyList<float[]>)[.. copies.Select(c => c[i])])];
    }

    var clean = ExpressionModelFitter.CrossValidate(train, eval, labels, identities, o, extraTrainingFeatures: extra).Matrix;
    ConfusionMatrix? jittered = null;
    if (jitterPoints is not null)
    {
        var jit = Features(o, "jitter", jitterPoints);
        jittered = ExpressionModelFitter.CrossValidate(train, jit, labels, identities, o, extraTrainingFeatures: extra).Matrix;
    }

    return (clean, jittered);
}

// Optional pictures: positives the geometry-only model finds and misses, and some neutrals it calls positive.
if (settings.TryGetValue("gallery", out var galleryDir))
{
    Directory.CreateDirectory(galleryDir);
    var geometryOnly = new ExpressionFitOptions { UseAppearance = false, L2 = 0.3 };
    var g = Features(geometryOnly, "fit", fitPoints);
    var cv = ExpressionModelFitter.CrossValidate(g, g, labels, identities, geometryOnly).Predictions;
    var crop = new CropSpec(0f, 0.5f, 2.2f, 160);
    void Write(string file, IEnumerable<int> indices)
    {
        var tiles = indices.Take(48).Select(i => new FacialKeypoints.Core.Drawing.GalleryTile(AlignedCrop.Extract(images[i], fitPoints[i], crop), [], $"{names[i]} {cv[i].Probabilities[ExpressionLabel.Positive]:0.00}")).ToList();
        FacialKeypoints.Core.Drawing.KeypointOverlay.SavePng(FacialKeypoints.Core.Drawing.KeypointOverlay.Gallery(tiles, 8, 160), Path.Combine(galleryDir, file));
    }

    var idx = Enumerable.Range(0, names.Count).ToList();
    Write("positive-missed.png", idx.Where(i => labels[i] == ExpressionLabel.Positive && cv[i].Label != ExpressionLabel.Positive));
    Write("positive-found.png", idx.Where(i => labels[i] == ExpressionLabel.Positive && cv[i].Label == ExpressionLabel.Positive));
    Write("neutral-called-positive.png", idx.Where(i => labels[i] == ExpressionLabel.Neutral && cv[i].Label == ExpressionLabel.Positive));
    Write("negative.png", idx.Where(i => labels[i] == ExpressionLabel.Negative));
    Log($"wrote galleries to {galleryDir}");
    return 0;
}

// 4. Optional design search.
if (settings.ContainsKey("search"))
{
    report.AppendLine("### Design search (identity-grouped 5-fold CV)");
    report.AppendLine();
    report.AppendLine("| design | accuracy | positive F1 | positive P / R | negative F1 | jittered accuracy | jittered positive F1 |");
    report.AppendLine("|---|---|---|---|---|---|---|");
    foreach (var (label, o) in SearchGrid())
    {
        var (clean, jittered) = Evaluate(o);
        Log($"{label}: {clean} | jittered: {jittered}");
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {label} | {clean.Accuracy:0.000} | {clean.F1(ExpressionLabel.Positive):0.000} | {clean.Precision(ExpressionLabel.Positive):0.000} / {clean.Recall(ExpressionLabel.Positive):0.000} | {clean.F1(ExpressionLabel.Negative):0.000} | {jittered?.Accuracy:0.000} | {jittered?.F1(ExpressionLabel.Positive):0.000} |");
    }

    report.AppendLine();
}

// 5. The chosen design: CV, then the final fit on every face.
var (chosenClean, chosenJittered) = Evaluate(chosen);
Section($"Learned classifier ({chosen.Describe()})", chosenClean);
if (chosenJittered is not null)
{
    Section($"Learned classifier, landmarks jittered by {jitter:0.###} IOD", chosenJittered);
}

var finalTrain = Features(chosen, "fit", fitPoints).ToList();
var finalLabels = labels.ToList();
for (int k = 0; k < trainJitter; k++)
{
    finalTrain.AddRange(Features(chosen, $"train-jitter-{k}", trainJitterPoints[k]));
    finalLabels.AddRange(labels);
}

var parameters = ExpressionModelFitter.Fit(finalTrain, finalLabels, chosen);
parameters.Metadata["labels"] = Path.GetFileName(labelsPath);
parameters.Metadata["landmarks"] = Path.GetFileName(landmarksPath);
parameters.Metadata["trainJitterCopies"] = trainJitter.ToString(CultureInfo.InvariantCulture);
parameters.Metadata["cvAccuracy"] = chosenClean.Accuracy.ToString("0.000", CultureInfo.InvariantCulture);
parameters.Metadata["cvPositiveF1"] = chosenClean.F1(ExpressionLabel.Positive).ToString("0.000", CultureInfo.InvariantCulture);
parameters.Save(outPath);
Log($"wrote {outPath} ({new FileInfo(outPath).Length / 1024.0:0.0} KB)");

// Check: the saved file reloads and reproduces the in-memory predictions.
using (var reloaded = new LearnedExpressionClassifier(ExpressionModelParameters.Load(outPath)))
{
    var check = reloaded.ClassifyBatch([.. names.Take(8).Select((n, i) => new ExpressionInput(fitPoints[i], images[i]))]);
    Log($"reloaded parameters classify the first faces as: {string.Join(", ", check.Select(p => p.Label.ToName()))}");
}

File.WriteAllText(reportPath, report.ToString());
Log($"wrote {reportPath}");
foreach (var extractor in extractors.Values)
{
    extractor.Dispose();
}

return 0;

static IEnumerable<(string Label, ExpressionFitOptions Options)> SearchGrid()
{
    string? only = Environment.GetEnvironmentVariable("EMOTIONFIT_GRID");
    if (only is null or "geometry")
    {
        foreach (double l2 in new[] { 0.01, 0.1, 0.3, 1.0 })
        {
            yield return ($"geometry only, L2 {l2}, cw 0.5", new ExpressionFitOptions { UseAppearance = false, L2 = l2 });
        }
    }

    var crops = new[]
    {
        ("lower128", CropSpec.LowerFace),
        ("mouth128", new CropSpec(0f, 1.0f, 1.2f, 128)),
        ("whole128", CropSpec.WholeFace),
    };
    if (only is null or "landmarks")
    {
        foreach (var (cropName, crop) in new[] { ("whole224", new CropSpec(0f, 0.45f, 2.2f, 224)), ("whole128", CropSpec.WholeFace) })
        {
            foreach (double l2 in new[] { 1.0, 3.0, 10.0 })
            {
                yield return ($"appearance only ({cropName}, landmarks-layer3), L2 {l2}", new ExpressionFitOptions { UseGeometry = false, Crop = crop, Pooling = AppearancePooling.LandmarkLayer3, AverageMirror = false, L2 = l2 });
                yield return ($"geometry + appearance ({cropName}, landmarks-layer3), L2 {l2}", new ExpressionFitOptions { Crop = crop, Pooling = AppearancePooling.LandmarkLayer3, AverageMirror = false, L2 = l2 });
            }
        }
    }

    if (only is "final")
    {
        yield return ("geometry only, L2 0.3, cw 1", new ExpressionFitOptions { UseAppearance = false, L2 = 0.3 });
        yield return ("appearance only (face224, landmarks-layer3), L2 0.2, cw 1", new ExpressionFitOptions { UseGeometry = false });
        yield return ("geometry + global layer4 (lower128, mirror), L2 0.2, cw 1, aw 0.3", new ExpressionFitOptions { Crop = CropSpec.LowerFace, Pooling = AppearancePooling.Layer4, AverageMirror = true });
        yield return ("shipped: geometry + landmarks-layer3 (face224), L2 0.2, cw 1, aw 0.3, 2-class", new ExpressionFitOptions());
        yield return ("same, 3-class (negative learned), cw 1", new ExpressionFitOptions { Negative = NegativeHandling.Learn });
        yield return ("same, 3-class (negative learned), cw 0.5", new ExpressionFitOptions { Negative = NegativeHandling.Learn, ClassWeightPower = 0.5 });
    }

    if (only is "keypoint")
    {
        // The keypoint network's face-trained backbone: which crop scale suits it, alone and with geometry, then with the ImageNet one.
        foreach (var (cropName, crop) in new[] { ("whole128", CropSpec.WholeFace), ("whole160", new CropSpec(0f, 0.45f, 2.2f, 160)), ("whole224", CropSpec.Face224) })
        {
            yield return ($"appearance only (keypoint backbone, {cropName}, landmarks-layer3), L2 0.2, cw 1", new ExpressionFitOptions { UseGeometry = false, Backbone = AppearanceBackbone.KeypointResNet18, Crop = crop });
            yield return ($"geometry + keypoint backbone ({cropName}, landmarks-layer3), L2 0.2, cw 1, aw 0.3", new ExpressionFitOptions { Backbone = AppearanceBackbone.KeypointResNet18, Crop = crop });
        }
    }

    if (only is "photometric")
    {
        foreach (double l2 in new[] { 0.3, 1.0 })
        {
            yield return ($"geometry + photometric, L2 {l2}, cw 1", new ExpressionFitOptions { UseAppearance = false, UsePhotometric = true, L2 = l2 });
        }

        yield return ("geometry only, L2 0.3, cw 1 (reference for the row above)", new ExpressionFitOptions { UseAppearance = false, L2 = 0.3 });
        foreach (double l2 in new[] { 0.2, 0.3 })
        {
            yield return ($"geometry + photometric + ImageNet landmarks-layer3 (face224), L2 {l2}, cw 1, aw 0.3", new ExpressionFitOptions { UsePhotometric = true, L2 = l2 });
        }
    }

    if (only is "predfit")
    {
        // Meant for --landmarks predictions.csv: fitted and scored on the landmarks seen at inference.
        var whole160 = new CropSpec(0f, 0.45f, 2.2f, 160);
        yield return ("shipped design (ImageNet, face224), L2 0.2, cw 1, aw 0.3", new ExpressionFitOptions());
        yield return ("same + photometric", new ExpressionFitOptions { UsePhotometric = true });
        yield return ("appearance only (ImageNet, face224), L2 0.2, cw 1", new ExpressionFitOptions { UseGeometry = false });
        yield return ("geometry + keypoint backbone (whole160), L2 0.2, cw 1, aw 0.3", new ExpressionFitOptions { Backbone = AppearanceBackbone.KeypointResNet18, Crop = whole160 });
        yield return ("appearance only (keypoint backbone, whole160), L2 0.2, cw 1", new ExpressionFitOptions { UseGeometry = false, Backbone = AppearanceBackbone.KeypointResNet18, Crop = whole160 });
        foreach (double aw in new[] { 0.2, 0.3, 0.5 })
        {
            yield return ($"geometry + ImageNet + keypoint backbones (face224), L2 0.2, cw 1, aw {aw}", new ExpressionFitOptions { Backbone = AppearanceBackbone.Both, AppearanceWeight = aw });
        }

        yield return ("geometry + photometric + ImageNet + keypoint backbones (face224), L2 0.2, cw 1, aw 0.3", new ExpressionFitOptions { Backbone = AppearanceBackbone.Both, UsePhotometric = true });
    }

    if (only is "keypoint-both")
    {
        string? cropText = Environment.GetEnvironmentVariable("EMOTIONFIT_KEYPOINT_CROP");
        var crop = cropText is null ? CropSpec.Face224 : ParseCrop(cropText);
        foreach (double l2 in new[] { 0.2, 0.5 })
        {
            foreach (double aw in new[] { 0.2, 0.3 })
            {
                yield return ($"geometry + ImageNet + keypoint backbones ({crop}, landmarks-layer3), L2 {l2}, cw 1, aw {aw}", new ExpressionFitOptions { Backbone = AppearanceBackbone.Both, Crop = crop, L2 = l2, AppearanceWeight = aw });
            }
        }
    }

    if (only is "mirror")
    {
        var whole224 = new CropSpec(0f, 0.45f, 2.2f, 224);
        foreach (double l2 in new[] { 0.1, 0.3, 1.0 })
        {
            foreach (double aw in new[] { 0.2, 0.3, 0.5, 1.0 })
            {
                yield return ($"geometry + appearance (whole224, landmarks-layer3, mirror-averaged), L2 {l2}, cw 1, aw {aw}", new ExpressionFitOptions { Crop = whole224, Pooling = AppearancePooling.LandmarkLayer3, AverageMirror = true, L2 = l2, ClassWeightPower = 1, AppearanceWeight = aw });
            }
        }
    }

    if (only is "fine")
    {
        foreach (var (cropName, crop) in new[] { ("whole224", new CropSpec(0f, 0.45f, 2.2f, 224)), ("whole288", new CropSpec(0f, 0.45f, 2.2f, 288)) })
        {
            foreach (double l2 in new[] { 0.1, 0.2, 0.3, 0.5 })
            {
                foreach (double aw in new[] { 0.15, 0.2, 0.3, 0.5 })
                {
                    foreach (double cw in new[] { 1.0, 1.5 })
                    {
                        yield return ($"geometry + appearance ({cropName}, landmarks-layer3), L2 {l2}, cw {cw}, aw {aw}", new ExpressionFitOptions { Crop = crop, Pooling = AppearancePooling.LandmarkLayer3, AverageMirror = false, L2 = l2, ClassWeightPower = cw, AppearanceWeight = aw });
                    }
                }
            }
        }
    }

    if (only is null or "tune")
    {
        var whole224 = new CropSpec(0f, 0.45f, 2.2f, 224);
        foreach (var pooling in new[] { AppearancePooling.LandmarkLayer3, AppearancePooling.LandmarkLayer2And3 })
        {
            foreach (double l2 in new[] { 0.3, 1.0, 3.0 })
            {
                foreach (double cw in new[] { 0.5, 1.0 })
                {
                    foreach (double aw in new[] { 0.3, 1.0 })
                    {
                        yield return ($"geometry + appearance (whole224, {AppearanceNames.ToName(pooling)}), L2 {l2}, cw {cw}, aw {aw}", new ExpressionFitOptions { Crop = whole224, Pooling = pooling, AverageMirror = false, L2 = l2, ClassWeightPower = cw, AppearanceWeight = aw });
                    }
                }
            }
        }
    }

    if (only is null or "pooling")
    {
        foreach (var (cropName, crop) in crops)
        {
            foreach (var pooling in new[] { AppearancePooling.Layer4, AppearancePooling.Layer3AndLayer4, AppearancePooling.Layer3Grid2AndLayer4 })
            {
                yield return ($"appearance only ({cropName}, {AppearanceNames.ToName(pooling)}), L2 1", new ExpressionFitOptions { UseGeometry = false, Crop = crop, Pooling = pooling, L2 = 1 });
                foreach (double l2 in new[] { 0.1, 0.3, 1.0 })
                {
                    yield return ($"geometry + appearance ({cropName}, {AppearanceNames.ToName(pooling)}), L2 {l2}", new ExpressionFitOptions { Crop = crop, Pooling = pooling, L2 = l2 });
                }
            }
        }
    }
}

static void WriteOutOfFold(string path, IReadOnlyList<string> faceNames, IReadOnlyList<ExpressionPrediction> predictions) =>
    File.WriteAllLines(path, ["name,predicted,p_neutral,p_positive,p_negative", .. faceNames.Select((n, i) => string.Create(CultureInfo.InvariantCulture,
        $"{n},{predictions[i].Label.ToName()},{predictions[i].Probabilities[ExpressionLabel.Neutral]:0.0000},{predictions[i].Probabilities[ExpressionLabel.Positive]:0.0000},{predictions[i].Probabilities[ExpressionLabel.Negative]:0.0000}"))]);

static ExpressionNetworkOptions NetworkOptionsFrom(Dictionary<string, string> s, ExpressionNetworkOptions? defaults = null, string prefix = "")
{
    var o = defaults ?? new ExpressionNetworkOptions();
    double D(string key, double fallback) => s.TryGetValue(prefix + key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
    int I(string key, int fallback) => s.TryGetValue(prefix + key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    o.Crop = s.TryGetValue(prefix + "net-crop", out var crop) ? ParseCrop(crop) : o.Crop;
    o.InitialBackbonePath = prefix.Length == 0 ? s.GetValueOrDefault("init") : null;
    o.Stages = I("stages", o.Stages);
    o.FirstTrainedStage = I("first-trained", o.FirstTrainedStage);
    o.Epochs = I("epochs", o.Epochs);
    o.BatchSize = I("batch", o.BatchSize);
    o.LearningRate = D("lr", o.LearningRate);
    o.WeightDecay = D("wd", o.WeightDecay);
    o.Dropout = D("dropout", o.Dropout);
    o.ClassWeightPower = D("class-weight-power", o.ClassWeightPower);
    o.Rotation = D("rotation", o.Rotation);
    o.Scale = D("scale", o.Scale);
    o.Translation = D("translation", o.Translation);
    o.ColorJitter = D("color-jitter", o.ColorJitter);
    o.Seed = I("seed", o.Seed);
    o.Negative = s.GetValueOrDefault(prefix + "negative") == "learn" ? NegativeHandling.Learn : NegativeHandling.Exclude;
    return o;
}

static ExpressionFitOptions FitOptionsFrom(Dictionary<string, string> s, ExpressionFitOptions o)
{
    var ci = CultureInfo.InvariantCulture;
    if (s.TryGetValue("geometry", out var v)) o.UseGeometry = bool.Parse(v);
    if (s.TryGetValue("appearance", out v)) o.UseAppearance = bool.Parse(v);
    if (s.TryGetValue("photometric", out v)) o.UsePhotometric = bool.Parse(v);
    if (s.TryGetValue("crop", out v)) o.Crop = v switch { "whole" => CropSpec.WholeFace, "lower" => CropSpec.LowerFace, "face224" => CropSpec.Face224, _ => ParseCrop(v) };
    if (s.TryGetValue("pooling", out v)) o.Pooling = AppearanceNames.Parse<AppearancePooling>(v);
    if (s.TryGetValue("mirror", out v)) o.AverageMirror = bool.Parse(v);
    if (s.TryGetValue("backbone", out v)) o.Backbone = v switch { "imagenet" => AppearanceBackbone.ImageNetResNet18, "keypoint" => AppearanceBackbone.KeypointResNet18, "both" => AppearanceBackbone.Both, _ => AppearanceNames.Parse<AppearanceBackbone>(v) };
    if (s.TryGetValue("l2", out v)) o.L2 = double.Parse(v, ci);
    if (s.TryGetValue("class-weight-power", out v)) o.ClassWeightPower = double.Parse(v, ci);
    if (s.TryGetValue("appearance-weight", out v)) o.AppearanceWeight = double.Parse(v, ci);
    if (s.TryGetValue("negative", out v)) o.Negative = Enum.Parse<NegativeHandling>(v, ignoreCase: true);
    return o;
}

// A crop as "centreU,centreV,extent,size" (face-frame units, pixels).
static CropSpec ParseCrop(string text)
{
    var parts = text.Split(',');
    if (parts.Length != 4)
    {
        throw new ArgumentException($"--crop takes face224, lower, whole or centreU,centreV,extent,size; not '{text}'.");
    }

    var ci = CultureInfo.InvariantCulture;
    return new CropSpec(float.Parse(parts[0], ci), float.Parse(parts[1], ci), float.Parse(parts[2], ci), int.Parse(parts[3], ci));
}

static float[] Lookup(Dictionary<string, float[]> table, string name, string source) =>
    table.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"'{name}' has a label but no landmarks in {source}.");

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    for (int i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Unexpected argument '{args[i]}'; options look like --name value.");
        }

        string key = args[i][2..];
        bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
        result[key] = hasValue ? args[++i] : "true";
    }

    return result;
}

static string FindDataRoot()
{
    string? configured = Environment.GetEnvironmentVariable("FKP_DATA");
    if (!string.IsNullOrEmpty(configured))
    {
        return configured;
    }

    foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "facial-keypoints")))
            {
                return Path.GetFullPath(candidate);
            }
        }
    }

    throw new DirectoryNotFoundException("The dataset was not found: pass --data or set FKP_DATA.");
}

/// <summary>Reports progress on the console, in order.</summary>
internal sealed class ConsoleProgress(Action<string> log) : IProgress<string>
{
    public void Report(string value) => log(value);
}
