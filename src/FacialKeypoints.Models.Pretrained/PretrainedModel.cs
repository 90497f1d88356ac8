using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.Models.Pretrained;

/// <summary>
/// The landmark model shipped with FacialKeypoints.NET: a ResNet-18 trained on the 3462 training images of the
/// Udacity / YouTube Faces keypoint data at 160 x 160 (see docs/results.md for its accuracy). Referencing this
/// package puts it in the application's <c>models/</c> folder.
/// </summary>
public static class PretrainedModel
{
    /// <summary>The model file's path beside the application.</summary>
    /// <exception cref="FileNotFoundException">The file is not there (the build did not copy it).</exception>
    public static string Path => ShippedModel.FindOrThrow();

    /// <summary>The model's metadata (input size, normalisation, landmark scheme).</summary>
    public static ModelMetadata ReadMetadata() => KeypointCheckpoint.ReadMetadata(Path);

    /// <summary>Loads a predictor on the shipped model, in one call.</summary>
    public static KeypointPredictor LoadPredictor(PredictorOptions? options = null)
    {
        options ??= new PredictorOptions();
        options.ModelPath = Path;
        return KeypointPredictor.Load(options);
    }
}
