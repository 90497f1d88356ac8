using FacialKeypoints.EmotionFit.Fitting;

namespace FacialKeypoints.EmotionFit;

/// <summary>
/// One EmotionFit command line, typed (<see cref="EmotionFitCommandLine"/> builds it): the data, the linear fit, the
/// convolutional network and its pretraining, the out-of-fold sheets, and the ten-logit expression network's commands
/// (issue 11). Which work runs follows from what is set: <see cref="IsExpressionCommand"/> first, then
/// <see cref="OutOfFoldGallery"/>, <see cref="PretrainOut"/>, <see cref="Network"/>, <see cref="Gallery"/>,
/// <see cref="Search"/>, else the plain refit.
/// </summary>
internal sealed class EmotionFitSettings
{
    /// <summary>Dataset root holding facial-keypoints/ and expression-labels/ (<c>--data</c>); null: $FKP_DATA or ../shared/data.</summary>
    public string? DataRoot { get; init; }

    /// <summary>The name,label CSV (<c>--labels</c>); null: DATA/expression-labels/training_expression_labels.csv.</summary>
    public string? LabelsPath { get; init; }

    /// <summary>The image folder (<c>--images</c>); null: DATA/facial-keypoints/training.</summary>
    public string? ImageDirectory { get; init; }

    /// <summary>The landmarks the model is fitted on (<c>--landmarks</c>); null: DATA/facial-keypoints/training_frames_keypoints.csv.</summary>
    public string? LandmarksPath { get; init; }

    /// <summary>The landmarks held-out faces are scored with (<c>--eval-landmarks</c>); null: <see cref="LandmarksPath"/>.</summary>
    public string? EvaluationLandmarksPath { get; init; }

    /// <summary>Also score with landmarks jittered by this fraction of the inter-ocular distance (<c>--jitter</c>; 0: off).</summary>
    public double Jitter { get; init; } = 0.03;

    /// <summary>Jittered copies of each training face in the experiments (<c>--train-jitter</c>).</summary>
    public int TrainJitter { get; init; }

    /// <summary>Mirrored copies of each training face in the experiments (<c>--train-mirror</c>).</summary>
    public bool TrainMirror { get; init; }

    /// <summary>Cross-validate the design grid (<c>--search</c>; EMOTIONFIT_GRID picks a part).</summary>
    public bool Search { get; init; }

    /// <summary>
    /// <c>--gallery</c>: a folder of contact sheets of the geometry-only model's calls; with
    /// <see cref="EvaluateExpression"/>, a PNG of the expression network's calls.
    /// </summary>
    public string? Gallery { get; init; }

    /// <summary>Where the fitted parameters go (<c>--out</c>).</summary>
    public string OutPath { get; init; } = "expression-model.json";

    /// <summary>The Markdown report (<c>--report</c>); null: emotion-report.md, or RUN/report.md for <see cref="EvaluateExpression"/>.</summary>
    public string? ReportPath { get; init; }

    /// <summary>Torch threads (<c>--threads</c>).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>The keypoint checkpoint (<c>--keypoint-model</c>); null: the shipped model.</summary>
    public string? KeypointModelPath { get; init; }

    /// <summary>The linear model's design (<c>--geometry</c>, <c>--crop</c>, <c>--l2</c>, ...).</summary>
    public ExpressionFitOptions Fit { get; init; } = new();

    /// <summary>Cross-validate (and fit) the convolutional classifier (<c>--network</c>).</summary>
    public bool Network { get; init; }

    /// <summary>Skip the network's cross-validation (<c>--no-cv</c>).</summary>
    public bool NoCrossValidation { get; init; }

    /// <summary>Fit the network on every labelled face and write it here (<c>--out-network</c>).</summary>
    public string? NetworkOutPath { get; init; }

    /// <summary>Append the network to those already in <see cref="NetworkOutPath"/> (<c>--add-member</c>).</summary>
    public bool AddMember { get; init; }

    /// <summary>Out-of-fold probabilities CSV (<c>--cv-out</c>).</summary>
    public string? CrossValidationOut { get; init; }

    /// <summary>Contact sheets of the network's out-of-fold calls (<c>--net-gallery</c>).</summary>
    public string? NetworkGallery { get; init; }

    /// <summary>The network's settings (<c>--net-crop</c>, <c>--stages</c>, <c>--epochs</c>, ..., <c>--init</c>).</summary>
    public ExpressionNetworkOptions NetworkOptions { get; init; } = new();

    /// <summary>Pretrain the backbone on landmarks first and write it here (<c>--pretrain-out</c>).</summary>
    public string? PretrainOut { get; init; }

    /// <summary>The pretraining's keypoint CSV (<c>--pretrain-landmarks</c>); null: the training keypoints.</summary>
    public string? PretrainLandmarksPath { get; init; }

    /// <summary>Fraction of identities the pretraining scores (<c>--pretrain-validation</c>).</summary>
    public double PretrainValidation { get; init; } = 0.1;

    /// <summary>The pretraining's network settings (the <c>--pt-</c> options).</summary>
    public ExpressionNetworkOptions PretrainNetwork { get; init; } = new LandmarkPretrainingOptions().Network;

    /// <summary>Contact sheets of averaged out-of-fold files (<c>--oof-gallery</c>), without fitting.</summary>
    public string? OutOfFoldGallery { get; init; }

    /// <summary>The out-of-fold files to average (<c>--oof A.csv,B.csv</c>).</summary>
    public IReadOnlyList<string> OutOfFoldFiles { get; init; } = [];

    /// <summary>Where the fetched expression sets are (<c>--expression-data</c>); null: $FKP_EXPRESSION_DATA or /work/data-extra/expression.</summary>
    public string? ExpressionData { get; init; }

    /// <summary>A PNG of landmarks on a few faces per source (<c>--landmark-gallery</c>).</summary>
    public string? LandmarkGallery { get; init; }

    /// <summary>Faces per source in <see cref="LandmarkGallery"/> (<c>--per-source</c>).</summary>
    public int PerSource { get; init; } = 8;

    /// <summary>Predict and cache the landmarks of every fetched face in this CSV (<c>--cache-landmarks</c>).</summary>
    public string? CacheLandmarks { get; init; }

    /// <summary>Train the ten-logit expression network in this run folder (<c>--train-expression</c>).</summary>
    public string? TrainExpression { get; init; }

    /// <summary>Evaluate the expression network of this run folder (<c>--evaluate-expression</c>).</summary>
    public string? EvaluateExpression { get; init; }

    /// <summary>The crop cache (<c>--cache-dir</c>).</summary>
    public string CacheDirectory { get; init; } = "/work/data-extra/expression-cache";

    /// <summary>The cached landmarks (<c>--landmarks-csv</c>); null: CACHE/landmarks.csv.</summary>
    public string? LandmarksCsv { get; init; }

    /// <summary>ResNet18.onnx for the expression network's start (<c>--imagenet-onnx</c>); null: the one beside the app.</summary>
    public string? ImageNetOnnx { get; init; }

    /// <summary>The expression network's training epochs (<c>--epochs</c> with <see cref="TrainExpression"/>).</summary>
    public int ExpressionEpochs { get; init; } = 4;

    /// <summary>Its batch size (<c>--batch</c>).</summary>
    public int ExpressionBatch { get; init; } = 64;

    /// <summary>Its seed (<c>--seed</c>).</summary>
    public int ExpressionSeed { get; init; } = 11;

    /// <summary>Its learning rate (<c>--lr</c>).</summary>
    public double ExpressionLearningRate { get; init; } = 1e-3;

    /// <summary>Its weight decay (<c>--wd</c>).</summary>
    public double ExpressionWeightDecay { get; init; } = 1e-4;

    /// <summary>Its dropout (<c>--dropout</c>).</summary>
    public double ExpressionDropout { get; init; } = 0.2;

    /// <summary>Stop after this many steps (<c>--max-steps</c>; 0: no limit).</summary>
    public int MaxSteps { get; init; }

    /// <summary>muxspace happy and neutral faces drawn per epoch (<c>--mux-per-class</c>).</summary>
    public int MuxPerClass { get; init; } = 2000;

    /// <summary>Times the training Taiwanese performers appear per epoch (<c>--taiwanese-repeat</c>).</summary>
    public int TaiwaneseRepeat { get; init; } = 2;

    /// <summary>Share of the training faces whose areas outside their image are filled with a random grey level
    /// instead of black (<c>--border-fill</c>, 0 to 1); 0 trains as the shipped network was trained.</summary>
    public double BorderFill { get; init; } = 0.75;

    /// <summary>The weights to evaluate (<c>--weights</c>); null: RUN/last.bin.</summary>
    public string? Weights { get; init; }

    /// <summary>Fine-tune layer3 and the head on our frames for this many steps instead of refitting the head (<c>--finetune-steps</c>).</summary>
    public int FinetuneSteps { get; init; }

    /// <summary>Of the replayed faces in each fine-tuning batch, this many from the training Taiwanese performers
    /// (<c>--finetune-taiwanese</c>); null: drawn with the other sources, in proportion to the replay sample.</summary>
    public int? FinetuneTaiwanese { get; init; }

    /// <summary>After fine-tuning, refit the three-class head on the fine-tuned features as without fine-tuning
    /// (<c>--finetune-refit</c>); otherwise the fine-tuned head is kept.</summary>
    public bool FinetuneRefit { get; init; }

    /// <summary>With <see cref="RefitGrid"/>, cross-validate heads with a ReLU layer of this width beside the linear rows
    /// instead of the linear grid (<c>--residual-hidden</c>; 0: the linear grid).</summary>
    public int ResidualHidden { get; init; }

    /// <summary>Average each face with its mirror image (<c>--mirror-average</c>).</summary>
    public bool MirrorAverage { get; init; }

    /// <summary>L2 of the head refit (<c>--refit-l2</c>).</summary>
    public double RefitL2 { get; init; } = 0.01;

    /// <summary>Weight of the replayed training faces in the head refit (<c>--replay-weight</c>).</summary>
    public double ReplayWeight { get; init; } = 0.5;

    /// <summary>Extra factor on the replayed Taiwanese training performers' faces, the only posed negatives the refit
    /// sees (<c>--replay-taiwanese</c>); 1 weighs them like the other replayed faces.</summary>
    public double TaiwaneseReplayFactor { get; init; } = 1;

    /// <summary>Choose the refit's two settings on a grid (<c>--refit-grid</c>).</summary>
    public bool RefitGrid { get; init; }

    /// <summary>Export the evaluated network to this ONNX file; with <see cref="QuantizeExpression"/>, the int8 file (<c>--export</c>).</summary>
    public string? Export { get; init; }

    /// <summary>Write this float32 expression network again as int8 to <see cref="Export"/> (<c>--quantize-expression</c>).</summary>
    public string? QuantizeExpression { get; init; }

    /// <summary>Labelled faces (each with its mirror image) that calibrate the int8 network (<c>--calibration-count</c>).</summary>
    public int CalibrationCount { get; init; } = 64;

    /// <summary>
    /// Padding (left/right, top, bottom as fractions of the side) per source that replaces the built-in one
    /// (<c>--pad-fer</c>, <c>--pad-taiwanese</c>, <c>--pad-muxspace</c>, <c>--pad-ours</c>).
    /// </summary>
    public IReadOnlyDictionary<string, (float Side, float Top, float Bottom)> Padding { get; init; } =
        new Dictionary<string, (float Side, float Top, float Bottom)>(StringComparer.Ordinal);

    /// <summary>Whether one of the expression network's commands (issue 11) is asked for.</summary>
    public bool IsExpressionCommand =>
        LandmarkGallery is not null || CacheLandmarks is not null || TrainExpression is not null || EvaluateExpression is not null;
}
