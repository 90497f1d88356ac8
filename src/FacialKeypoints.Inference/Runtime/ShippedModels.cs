namespace FacialKeypoints.Inference.Runtime;

/// <summary>The models embedded in this assembly (see NOTICE.md for their sources and licences).</summary>
internal static class ShippedModels
{
    public const string DetectorFront128 = "blazeface-front-128.onnx";
    public const string DetectorBack256 = "blazeface-back-256.onnx";
    public const string Landmarks = "landmarks.onnx";
    public const string LandmarksInt8 = "landmarks-int8.onnx";
    public const string Expression = "expression-int8.onnx";

    /// <summary>Reads an embedded model.</summary>
    /// <exception cref="FileNotFoundException">This build of the package does not carry the model.</exception>
    public static byte[] Read(string name)
    {
        string resource = "FacialKeypoints.Inference.Models." + name;
        using var stream = typeof(ShippedModels).Assembly.GetManifestResourceStream(resource)
            ?? throw new FileNotFoundException($"The package does not carry the model '{name}'.", name);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Whether this build carries the model.</summary>
    public static bool Has(string name) =>
        typeof(ShippedModels).Assembly.GetManifestResourceInfo("FacialKeypoints.Inference.Models." + name) is not null;
}
