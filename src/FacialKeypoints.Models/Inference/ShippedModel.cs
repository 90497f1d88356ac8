namespace FacialKeypoints.Models.Inference;

/// <summary>
/// Finds the trained model that ships with the library: <c>models/facial-keypoints-resnet18.safetensors</c> beside
/// the application (the <c>FacialKeypoints.Models.Pretrained</c> package puts it there), or the file named by
/// <c>FKP_MODEL</c>.
/// </summary>
public static class ShippedModel
{
    /// <summary>The file name of the shipped model.</summary>
    public const string FileName = "facial-keypoints-resnet18.safetensors";

    /// <summary>Its folder below the application's base directory.</summary>
    public const string Folder = "models";

    /// <summary>Environment variable that overrides the location.</summary>
    public const string PathVariable = "FKP_MODEL";

    /// <summary>Where the model is looked for, in order.</summary>
    public static IReadOnlyList<string> CandidatePaths()
    {
        var paths = new List<string>();
        string? configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            paths.Add(configured);
        }

        paths.Add(Path.Combine(AppContext.BaseDirectory, Folder, FileName));
        return paths;
    }

    /// <summary>The shipped model's path, or null when it is not there.</summary>
    public static string? Find() => CandidatePaths().FirstOrDefault(File.Exists);

    /// <summary>The shipped model's path.</summary>
    /// <exception cref="FileNotFoundException">It is not there.</exception>
    public static string FindOrThrow() => Find() ?? throw new FileNotFoundException(
        $"The shipped keypoint model was not found (looked in: {string.Join("; ", CandidatePaths())}). Reference the " +
        $"FacialKeypoints.Models.Pretrained package, pass a model file, or set {PathVariable}.");
}
