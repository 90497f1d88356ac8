using System.Diagnostics;
using System.Globalization;
using System.Text;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Emotion;
using FacialKeypoints.EmotionFit;
using FacialKeypoints.EmotionFit.Fitting;
using static TorchSharp.torch;

// EmotionFit: fits and evaluates the expression classifiers (the linear model with identity-grouped cross-validation,
// the convolutional network and its landmark pretraining, the ten-logit expression network of issue 11). The options
// and their defaults are in EmotionFitCommandLine.cs and `--help`; the work follows from them (see EmotionFitSettings):
//
//   dotnet run -c Release --project samples/FacialKeypoints.EmotionFit -- [options]
//
//   (no mode)              refit the linear model: --labels --images --landmarks --eval-landmarks --jitter, fit settings
//                          (--geometry --photometric --appearance --backbone --crop --pooling --mirror --l2 ...),
//                          --out FILE, --report FILE, --cv-out CSV
//   --search, --gallery    experiments on cached features (EMOTIONFIT_GRID picks a part of the grid)
//   --network              the convolutional classifier (--no-cv, --out-network FILE [--add-member], --net-gallery DIR)
//   --pretrain-out FILE    pretrain its backbone on landmarks first (the --pt- options)
//   --oof-gallery DIR      contact sheets of averaged out-of-fold files (--oof A.csv,B.csv)
//   --landmark-gallery PNG | --cache-landmarks CSV | --train-expression DIR | --evaluate-expression DIR
//                          the ten-logit expression network (data from docs/tools/get-expression-data.sh)
//   --quantize-expression ONNX --export INT8.onnx
//                          that network again as static int8, calibrated on our labelled frames
return EmotionFitCommandLine.Run(args, Fit);

static int Fit(EmotionFitSettings settings)
{
    TorchRuntime.EnsureInitialized();
    set_num_threads(settings.Threads);
    if (settings.QuantizeExpression is not null)
    {
        var started = Stopwatch.StartNew();
        return ExpressionQuantization.Run(settings, settings.DataRoot ?? FindDataRoot(), m => Console.WriteLine($"[{started.Elapsed:mm\\:ss}] {m}"));
    }

    if (settings.IsExpressionCommand)
    {
        return ExpressionCommands.Run(settings, settings.DataRoot ?? FindDataRoot());
    }

    string dataRoot = settings.DataRoot ?? FindDataRoot();
    string labelsPath = settings.LabelsPath ?? Path.Combine(dataRoot, "expression-labels", "training_expression_labels.csv");
    string imageDir = settings.ImageDirectory ?? Path.Combine(dataRoot, "facial-keypoints", "training");
    string landmarksPath = settings.LandmarksPath ?? Path.Combine(dataRoot, "facial-keypoints", "training_frames_keypoints.csv");
    string? evalLandmarksPath = settings.EvaluationLandmarksPath;
    double jitter = settings.Jitter;
    int trainJitter = settings.TrainJitter;
    string outPath = settings.OutPath;
    string reportPath = settings.ReportPath ?? "emotion-report.md";
    var chosen = settings.Fit;

    var clock = Stopwatch.StartNew();
    void Log(string message) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");

    // The plain refit: the library's refitter with the chosen settings, the report and the parameter file.
    if (!settings.Search && settings.Gallery is null && !settings.Network && settings.PretrainOut is null && settings.OutOfFoldGallery is null)
    {
        var result = ExpressionRefitter.Run(
            new ExpressionRefitRequest
            {
                LabelsPath = labelsPath,
                ImageDirectory = imageDir,
                LandmarksPath = landmarksPath,
                EvaluationLandmarksPath = evalLandmarksPath,
                KeypointModelPath = settings.KeypointModelPath,
                FitOptions = chosen,
                JitterFraction = jitter,
            },
            new ConsoleProgress(Log));
        result.Parameters.Save(outPath);
        if (settings.CrossValidationOut is { } learnedCvOut)
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
    bool trainMirror = settings.TrainMirror;
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
    if (settings.OutOfFoldGallery is { } oofGallery)
    {
        var files = settings.OutOfFoldFiles.Count > 0 ? settings.OutOfFoldFiles : throw new ArgumentException("--oof-gallery needs --oof A.csv[,B.csv...] (files written by --cv-out).");
        var tables = files.Select(f => File.ReadLines(f).Skip(1).Select(line => line.Split(',')).ToDictionary(c => c[0], c => float.Parse(c[3], CultureInfo.InvariantCulture), StringComparer.Ordinal)).ToList();
        WriteCallSheets(oofGallery, [.. names.Select(n => tables.Average(t => t.TryGetValue(n, out float p) ? p : throw new ArgumentException($"{n} is missing from an --oof file.")))]);
        return 0;
    }

    // --pretrain: teach a network's backbone the face's shape from a keypoint CSV (landmarks in the face frame of the
    // aligned crop), leaving out the labelled images so that cross-validation never scores a face it was pretrained on.
    if (settings.PretrainOut is { } pretrainOut)
    {
        string keypointsPath = settings.PretrainLandmarksPath ?? Path.Combine(dataRoot, "facial-keypoints", "training_frames_keypoints.csv");
        var labelled = labelRows.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var table = ExpressionRefitter.ReadLandmarks(keypointsPath);
        var pool = table.Keys.Where(n => !labelled.Contains(n)).Order(StringComparer.Ordinal).ToList();
        var split = DatasetSplits.ByIdentity([.. pool.Select(SampleInfo.IdentityOf)], settings.PretrainValidation, seed: 0);
        var poolImages = new RgbImage[pool.Count];
        Parallel.For(0, pool.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => poolImages[i] = ImageDecoder.Decode(Path.Combine(imageDir, pool[i])));
        List<ExpressionFace> FacesOf(IEnumerable<int> rows) => [.. rows.Select(i => new ExpressionFace(poolImages[i], table[pool[i]]))];
        var pretrainOptions = new LandmarkPretrainingOptions { Network = settings.PretrainNetwork };
        Log($"pretraining on {split.Train.Count} faces, validating on {split.Validation.Count} (identity split; {labelled.Count} labelled images left out): {pretrainOptions.Network.Describe()}");
        using var pretrained = LandmarkPretraining.Fit(FacesOf(split.Train), pretrainOptions, FacesOf(split.Validation), progress: new ConsoleProgress(Log));
        LandmarkPretraining.SaveBackbone(pretrainOut, pretrained, new Dictionary<string, string>
        {
            ["fit"] = pretrainOptions.Network.Describe(),
            ["landmarks"] = Path.GetFileName(keypointsPath),
            ["faces"] = split.Train.Count.ToString(CultureInfo.InvariantCulture),
        });
        Log($"wrote {pretrainOut}");
        if (!settings.Network)
        {
            return 0;
        }

        settings.NetworkOptions.InitialBackbonePath = pretrainOut;
    }

    // --network: cross-validate (and fit) the convolutional classifier on aligned crops.
    if (settings.Network)
    {
        var networkOptions = settings.NetworkOptions;
        Log($"network: {networkOptions.Describe()}");
        var fitFaces = names.Select((_, i) => new ExpressionFace(images[i], fitPoints[i])).ToList();
        var scoreFaces = names.Select((_, i) => new ExpressionFace(images[i], evalPoints[i])).ToList();
        if (!settings.NoCrossValidation)
        {
            var cv = ExpressionNetworkTrainer.CrossValidate(fitFaces, scoreFaces, labels, identities, networkOptions, progress: new ConsoleProgress(Log));
            Log($"network CV: {cv.Matrix}");
            if (settings.CrossValidationOut is { } cvOut)
            {
                WriteOutOfFold(cvOut, names, cv.Predictions);
                Log($"wrote {cvOut}");
            }

            if (settings.NetworkGallery is { } netGallery)
            {
                WriteCallSheets(netGallery, [.. cv.Predictions.Select(p => p.Probabilities[ExpressionLabel.Positive])]);
            }

            File.WriteAllText(reportPath, $"Network settings: {networkOptions.Describe()}\n\nLandmarks scored with: {evalSource}. Identity-grouped 5-fold CV, seed 0.\n\n" + cv.Matrix.ToMarkdown());
            Log($"wrote {reportPath}");
        }

        if (settings.NetworkOutPath is { } networkPath)
        {
            // The shipped network: fitted on every labelled face, written with its settings (appended as a further member
            // of an existing model with --add-member, so ensembles are fitted one network at a time), then reloaded as a check.
            var (network, classes) = ExpressionNetworkTrainer.Fit(fitFaces, labels, networkOptions, progress: new ConsoleProgress(line => Log($"all faces: {line}")));
            var spec = new ExpressionNetworkSpec(networkOptions.Stages, classes, networkOptions.Crop, networkOptions.MirrorAverage);
            var members = new List<ExpressionNetwork>();
            var notes = new Dictionary<string, string>(StringComparer.Ordinal);
            if (settings.AddMember && File.Exists(networkPath))
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
                extractors[(crop, mirror, family, backbone)] = extractor = new AppearanceFeatureExtractor(crop, mirror, family, backbone: backbone, keypointModelPath: settings.KeypointModelPath);
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
    if (settings.Gallery is { } galleryDir)
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
    if (settings.Search)
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
}


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
        var crop = cropText is null ? CropSpec.Face224
            : EmotionFitCommandLine.TryParseCrop(cropText, out var parsed) ? parsed
            : throw new ArgumentException($"EMOTIONFIT_KEYPOINT_CROP takes face224, lower, whole or centreU,centreV,extent,size; not '{cropText}'.");
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

static float[] Lookup(Dictionary<string, float[]> table, string name, string source) =>
    table.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"'{name}' has a label but no landmarks in {source}.");

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
