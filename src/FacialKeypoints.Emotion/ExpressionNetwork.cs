using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Import;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FacialKeypoints.Emotion;

/// <summary>
/// A convolutional expression classifier: the first <see cref="Stages"/> stages of a ResNet-18, average pooling,
/// dropout and a linear layer to one logit per class. It reads an eye-aligned face crop (<see cref="AlignedCrop"/>)
/// normalised with the ImageNet statistics, so it sees the teeth, cheeks and eyes that landmark geometry misses.
/// Fitted by the EmotionFit sample; used through <see cref="NetworkExpressionClassifier"/>.
/// </summary>
public sealed class ExpressionNetwork : nn.Module<Tensor, Tensor>
{
    private readonly ResNet18Backbone backbone;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates a network with fresh (untrained) weights.</summary>
    /// <param name="stages">How many ResNet-18 stages to keep: 3 (layer3, 256 features) or 4 (layer4, 512 features).</param>
    /// <param name="classCount">The number of classes (2: neutral, positive; 3 with negative).</param>
    /// <param name="dropout">Dropout before the linear layer, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public ExpressionNetwork(int stages, int classCount, double dropout = 0.3)
        : base(nameof(ExpressionNetwork))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 3);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(stages, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        }

        TorchRuntime.EnsureInitialized();
        Stages = stages;
        ClassCount = classCount;
        Dropout = dropout;
        backbone = new ResNet18Backbone(ResNet18Layout.Standard);
        this.dropout = nn.Dropout(dropout);
        classifier = nn.Linear(FeatureCount(stages), classCount);
        RegisterComponents();
    }

    /// <summary>The ResNet-18 stages kept (3 or 4).</summary>
    public int Stages { get; }

    /// <summary>The number of classes the network scores.</summary>
    public int ClassCount { get; }

    /// <summary>The dropout before the linear layer.</summary>
    public double Dropout { get; }

    /// <summary>The input normalisation: ImageNet mean and standard deviation, as the backbone was pretrained.</summary>
    public static NormalizationSpec Normalization => ImageNetResNet18.Normalization;

    /// <summary>The backbone; its stages beyond <see cref="Stages"/> are never run and are not saved.</summary>
    public ResNet18Backbone Backbone => backbone;

    /// <summary>The linear layer that reads the pooled features (for export with the backbone).</summary>
    public Linear Classifier => classifier;

    /// <summary>The pooled feature width for a stage count: 256 after layer3, 512 after layer4.</summary>
    /// <param name="stages">3 or 4.</param>
    /// <returns>The width.</returns>
    public static int FeatureCount(int stages) => stages == 4 ? 512 : 256;

    /// <summary>Whether a parameter or buffer name belongs to the part of the network that runs.</summary>
    /// <param name="name">A <c>state_dict</c> name.</param>
    /// <returns>False for the stages beyond <see cref="Stages"/>.</returns>
    public bool IsUsed(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return StageOf(name) is not { } stage || stage <= Stages;
    }

    /// <summary>The first stage whose weights learn (<see cref="FreezeBelow"/>); 1 when nothing is frozen.</summary>
    public int FirstTrainedStage { get; private set; } = 1;

    /// <summary>
    /// Freezes the stem and the stages before <paramref name="firstTrainedStage"/>: their parameters stop requiring
    /// gradients and their batch norms stay in evaluation mode when the network trains.
    /// </summary>
    /// <param name="firstTrainedStage">1 to 4; 1 trains everything, stem included.</param>
    public void FreezeBelow(int firstTrainedStage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstTrainedStage, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstTrainedStage, 4);
        FirstTrainedStage = firstTrainedStage;
        foreach (var (name, parameter) in named_parameters())
        {
            parameter.requires_grad = !IsFrozen(name);
        }
    }

    /// <inheritdoc/>
    public override void train(bool on = true)
    {
        base.train(on);
        if (on && FirstTrainedStage > 1)
        {
            foreach (var (name, module) in backbone.named_children())
            {
                if (IsFrozen("backbone." + name + "."))
                {
                    module.eval();
                }
            }
        }
    }

    /// <summary>Where a parameter sits: 1-4 inside backbone.layerN, 0 in the backbone's stem, null outside the backbone.</summary>
    private static int? StageOf(string name)
    {
        if (!name.StartsWith("backbone.", StringComparison.Ordinal))
        {
            return null;
        }

        return name.Length > 15 && name.StartsWith("backbone.layer", StringComparison.Ordinal) && char.IsAsciiDigit(name[14]) && name[15] == '.'
            ? name[14] - '0'
            : 0;
    }

    // Stage 1 as the first trained stage trains the stem too.
    private bool IsFrozen(string name) => FirstTrainedStage > 1 && StageOf(name) is { } stage && stage < FirstTrainedStage;

    /// <summary>Class logits of normalised crops.</summary>
    /// <param name="input">Crops <c>[B, 3, S, S]</c> normalised with <see cref="Normalization"/>, S a multiple of 16; not disposed.</param>
    /// <returns>Logits <c>[B, ClassCount]</c>, owned by the caller.</returns>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var map = backbone.FeatureMap(input, Stages);
        using var pooled = nn.functional.adaptive_avg_pool2d(map, 1);
        using var flat = pooled.flatten(1);
        using var dropped = dropout.call(flat);
        return classifier.call(dropped);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            dropout.Dispose();
            classifier.Dispose();
        }

        base.Dispose(disposing);
    }
}
