using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.Inference.Benchmarks;

/// <summary>What the benchmarks run on: test crops of the keypoint dataset ($FKP_DATA or ../shared/data), and a scene made from them.</summary>
internal static class Inputs
{
    private static readonly Lazy<string> Data = new(() =>
    {
        string? configured = Environment.GetEnvironmentVariable("FKP_DATA");
        if (!string.IsNullOrEmpty(configured))
        {
            return Path.Combine(configured, "facial-keypoints");
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "data", "facial-keypoints");
            if (Directory.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        throw new DirectoryNotFoundException("The keypoint dataset was not found: set FKP_DATA or place it at ../shared/data.");
    });

    private static readonly Lazy<string> Float32Model = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), "fkp-benchmarks-landmarks-float32.onnx");
        if (!File.Exists(path))
        {
            var (network, metadata) = KeypointCheckpoint.Load(ShippedModel.FindOrThrow());
            using (network)
            {
                OnnxExport.Save(network, metadata, path);
            }
        }

        return path;
    });

    /// <summary>The first test crops, as files.</summary>
    public static string[] CropPaths(int count) =>
        [.. File.ReadLines(Path.Combine(Data.Value, "test_frames_keypoints.csv")).Skip(1).Take(count).Select(l => Path.Combine(Data.Value, "test", l.Split(',')[0]))];

    /// <summary>The first test crops, decoded.</summary>
    public static RgbImage[] Crops(int count) => [.. CropPaths(count).Select(ImageDecoder.Decode)];

    /// <summary>A 1280x720 grey scene with four test crops pasted in (faces about 60-250 px wide).</summary>
    public static RgbImage Scene()
    {
        var scene = new RgbImage(1280, 720);
        Array.Fill(scene.Pixels, (byte)110);
        var crops = Crops(4);
        (float X, float Y, float Width)[] places = [(20, 30, 560), (650, 60, 340), (980, 100, 230), (560, 420, 140)];
        for (int f = 0; f < 4; f++)
        {
            float scale = places[f].Width / crops[f].Width;
            var pasted = ImageWarp.Warp(crops[f], (int)places[f].Width, (int)(crops[f].Height * scale), AffineMatrix.Scaling(scale, scale));
            for (int y = 0; y < pasted.Height && y + places[f].Y < 720; y++)
            {
                int row = (int)places[f].Y + y;
                int width = Math.Min(pasted.Width, 1280 - (int)places[f].X);
                Array.Copy(pasted.Pixels, y * pasted.Width * 3, scene.Pixels, ((row * 1280) + (int)places[f].X) * 3, width * 3);
            }
        }

        return scene;
    }

    /// <summary>The shipped landmark network exported to float32 ONNX (made once, in the temporary folder).</summary>
    public static string Float32LandmarkModel => Float32Model.Value;
}
