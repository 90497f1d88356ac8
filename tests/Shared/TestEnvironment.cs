namespace FacialKeypoints.Tests;

/// <summary>Shared by every test project (linked by Directory.Build.props): the dataset's location and temporary folders.</summary>
internal static class TestEnvironment
{
    /// <summary>Environment variable naming the folder that holds <c>facial-keypoints/</c> and <c>expression-labels/</c>.</summary>
    public const string DataVariable = "FKP_DATA";

    /// <summary>
    /// The data folder: <c>$FKP_DATA</c>, else <c>../shared/data</c> beside the repository. Throws, never skips:
    /// a CI run without the dataset must fail loudly.
    /// </summary>
    public static string DataRoot
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(DataVariable);
            if (!string.IsNullOrEmpty(configured))
            {
                return Directory.Exists(configured)
                    ? configured
                    : throw new DirectoryNotFoundException($"{DataVariable} points to '{configured}', which does not exist.");
            }

            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "data");
                if (Directory.Exists(Path.Combine(candidate, "facial-keypoints")))
                {
                    return Path.GetFullPath(candidate);
                }
            }

            throw new DirectoryNotFoundException(
                $"The dataset was not found: set {DataVariable} or place it at ../shared/data beside the repository (see README.md).");
        }
    }

    /// <summary>The keypoint dataset folder.</summary>
    public static string KeypointData => Path.Combine(DataRoot, "facial-keypoints");

    /// <summary>A fresh temporary folder, deleted by the caller.</summary>
    public static string NewTempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "fkp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
