using System.ComponentModel.DataAnnotations;
using FacialKeypoints.Data;

namespace FacialKeypoints.Training;

/// <summary>Which samples of a mixed training set the blur and low-resolution augmentation applies to.</summary>
public enum DegradationScope
{
    /// <summary>Every sample.</summary>
    AllSources,

    /// <summary>
    /// Only the sources marked as sharp photos (<see cref="KeypointTrainer.Degradation"/> given as their
    /// <see cref="FacialKeypoints.Data.FaceSource.Augmentation"/>): video frames are blurred already.
    /// </summary>
    PhotoSources,
}

/// <summary>The regression loss between predicted and true normalised keypoints.</summary>
public enum LossKind
{
    /// <summary>Smooth L1 (Huber) with <see cref="TrainerOptions.SmoothL1Beta"/>; the reference used beta 1.</summary>
    SmoothL1,

    /// <summary>Plain L1: keeps pulling on small errors, which Smooth L1 with beta 1 treats as squared.</summary>
    L1,
}

/// <summary>
/// How a run trains. The defaults reproduce the reference pipeline (224 px, 40 epochs, AdamW 1e-3 / 1e-4,
/// cosine annealing, clipping at 5, Smooth L1, batch 64, 10% validation, horizontal flips only); the
/// augmentation and loss settings are where our runs differ, and each difference is measured in docs/results.md.
/// </summary>
public sealed class TrainerOptions
{
    /// <summary>Epochs to train.</summary>
    [Range(1, 10_000)]
    public int Epochs { get; set; } = 40;

    /// <summary>Samples per optimisation step.</summary>
    [Range(1, 4096)]
    public int BatchSize { get; set; } = 64;

    /// <summary>Peak learning rate of AdamW.</summary>
    [Range(1e-7, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Decoupled weight decay of AdamW.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Epochs of linear warm-up before the cosine decay (0: none, as the reference).</summary>
    [Range(0, 1000)]
    public int WarmupEpochs { get; set; }

    /// <summary>Gradients are rescaled so their global L2 norm is at most this (0 turns clipping off).</summary>
    [Range(0.0, 1e6)]
    public double GradientClipNorm { get; set; } = 5.0;

    /// <summary>The loss.</summary>
    public LossKind Loss { get; set; } = LossKind.SmoothL1;

    /// <summary>Beta of the Smooth L1 loss.</summary>
    [Range(1e-6, 100.0)]
    public double SmoothL1Beta { get; set; } = 1.0;

    /// <summary>Network input side in pixels (a multiple of 32).</summary>
    [Range(64, 1024)]
    public int InputSize { get; set; } = 224;

    /// <summary>Share of the training rows held out for validation.</summary>
    [Range(0.0, 0.9)]
    public double ValidationFraction { get; set; } = 0.1;

    /// <summary>Hold out whole identities rather than random rows (an honest estimate for unseen people).</summary>
    public bool SplitByIdentity { get; set; }

    /// <summary>Seed of the split, the sample order, augmentation and dropout.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Chance of a horizontal flip (with the scheme's index swap).</summary>
    [Range(0.0, 1.0)]
    public double FlipProbability { get; set; } = 0.5;

    /// <summary>Largest random rotation in degrees (0: none, as the reference).</summary>
    [Range(0.0, 90.0)]
    public float MaxRotationDegrees { get; set; }

    /// <summary>Largest relative zoom change (0.1: zoom in [0.9, 1.1]; 0: none).</summary>
    [Range(0.0, 0.5)]
    public float MaxScaleChange { get; set; }

    /// <summary>Largest shift as a fraction of the image side (0: none).</summary>
    [Range(0.0, 0.5)]
    public float MaxTranslation { get; set; }

    /// <summary>Brightness, contrast and saturation jitter amount (0: none).</summary>
    [Range(0.0, 1.0)]
    public float ColorJitter { get; set; }

    /// <summary>Chance of a Gaussian blur (<see cref="FacialKeypoints.Data.Transforms.GaussianBlur"/>; 0: none).</summary>
    [Range(0.0, 1.0)]
    public double BlurProbability { get; set; }

    /// <summary>Largest blur standard deviation in pixels of the network input (drawn from [0.3, this]).</summary>
    [Range(0.3, 10.0)]
    public float MaxBlurSigma { get; set; } = 1.5f;

    /// <summary>Chance of a downscale-upscale round trip (<see cref="FacialKeypoints.Data.Transforms.LowResolution"/>; 0: none).</summary>
    [Range(0.0, 1.0)]
    public double LowResolutionProbability { get; set; }

    /// <summary>Smallest downscale factor of that round trip (drawn from [this, 0.9]).</summary>
    [Range(0.1, 0.9)]
    public float MinResolutionScale { get; set; } = 0.4f;

    /// <summary>
    /// Whether blur and low resolution are part of the shared augmentation (<see cref="DegradationScope.AllSources"/>)
    /// or left to the photo sources of a mix (<see cref="DegradationScope.PhotoSources"/>).
    /// </summary>
    public DegradationScope DegradationScope { get; set; }

    /// <summary>Average the prediction with that of the mirrored image at validation and test time.</summary>
    public bool FlipTestTimeAugmentation { get; set; }

    /// <summary>Start from ImageNet weights (false: random initialisation).</summary>
    public bool Pretrained { get; set; } = true;

    /// <summary>
    /// What to do with a training or validation image that cannot be read or decoded during the run:
    /// <see cref="BadFilePolicy.Fail"/> stops the run with the error naming it;
    /// <see cref="BadFilePolicy.Skip"/> leaves the sample out of its batch, logs the file once and
    /// counts it in <see cref="TrainingResult.SkippedImages"/>.
    /// </summary>
    public BadFilePolicy BadFiles { get; set; } = BadFilePolicy.Fail;

    /// <summary>Keep decoded, resized images in memory after the first epoch.</summary>
    public bool CacheImages { get; set; } = true;

    /// <summary>Threads decoding and augmenting images.</summary>
    [Range(1, 64)]
    public int Workers { get; set; } = 2;

    /// <summary>Threads libtorch may use (0: its default).</summary>
    [Range(0, 256)]
    public int TorchThreads { get; set; }

    /// <summary>
    /// Where the network trains: <c>cpu</c> (default), <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (CUDA when
    /// available). CUDA needs a CUDA build of libtorch in the application (TorchSharp-cuda-linux or
    /// TorchSharp-cuda-windows instead of libtorch-cpu-linux-x64); without one, training fails at the start with a
    /// message saying so. Batches are prepared on the CPU and moved per step.
    /// </summary>
    [Required]
    [RegularExpression("^(?i)(cpu|auto|cuda(:[0-9]+)?)$", ErrorMessage = "Device must be cpu, cuda, cuda:N or auto.")]
    public string Device { get; set; } = "cpu";

    /// <summary>Stop after this many optimisation steps in total (0: no limit); for smoke tests and benchmarks.</summary>
    [Range(0, int.MaxValue)]
    public int MaxSteps { get; set; }

    /// <summary>Checks the values, including the rules attributes cannot express.</summary>
    /// <exception cref="ValidationException">A value is out of range.</exception>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (InputSize % 32 != 0)
        {
            throw new ValidationException($"InputSize must be a multiple of 32 (ResNet downsamples 32x); got {InputSize}.");
        }

        if (WarmupEpochs >= Epochs)
        {
            throw new ValidationException($"WarmupEpochs ({WarmupEpochs}) must be below Epochs ({Epochs}).");
        }
    }

    /// <summary>The learning rate of an epoch: linear warm-up, then cosine annealing to zero over the rest of the run.</summary>
    public double LearningRateAt(int epoch)
    {
        if (epoch < WarmupEpochs)
        {
            return LearningRate * (epoch + 1) / (WarmupEpochs + 1);
        }

        double progress = (double)(epoch - WarmupEpochs) / (Epochs - WarmupEpochs);
        return LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
