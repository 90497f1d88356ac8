using FacialKeypoints.Tests;

namespace FacialKeypoints.Inference.Tests;

/// <summary>Test faces from the keypoint dataset, and scenes made from them with known landmarks.</summary>
internal static class TestImages
{
    private static readonly Lazy<IReadOnlyList<KeypointRecord>> TestRows = new(() =>
        KeypointCsvReader.Read(Path.Combine(TestEnvironment.KeypointData, "test_frames_keypoints.csv"), LandmarkScheme.Ibug68).Records);

    /// <summary>The test split's rows.</summary>
    public static IReadOnlyList<KeypointRecord> Rows => TestRows.Value;

    /// <summary>One test crop and its landmarks.</summary>
    public static (RgbImage Image, float[] Landmarks) Face(int row)
    {
        var record = Rows[row];
        return (ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "test", record.Name)), record.Keypoints);
    }

    /// <summary>
    /// Pastes test crops onto a grey canvas, each scaled so that its face (the landmark box) is the given width, with
    /// the crop's top-left corner at the given place; returns the scene and each face's landmarks in scene pixels.
    /// </summary>
    public static (RgbImage Scene, float[][] Landmarks) Scene(int width, int height, params (int Row, float X, float Y, float FaceWidth)[] faces)
    {
        var scene = new RgbImage(width, height);
        Array.Fill(scene.Pixels, (byte)110);
        var landmarks = new float[faces.Length][];
        for (int f = 0; f < faces.Length; f++)
        {
            var (image, points) = Face(faces[f].Row);
            float scale = faces[f].FaceWidth / FaceBox.Around(points).Width;
            int w = (int)MathF.Round(image.Width * scale), h = (int)MathF.Round(image.Height * scale);
            var pasted = ImageWarp.Warp(image, w, h, AffineMatrix.Scaling(scale, scale));
            for (int y = 0; y < h; y++)
            {
                int sy = y + (int)faces[f].Y;
                for (int x = 0; x < w; x++)
                {
                    int sx = x + (int)faces[f].X;
                    if (sx >= 0 && sy >= 0 && sx < width && sy < height)
                    {
                        Array.Copy(pasted.Pixels, ((y * w) + x) * 3, scene.Pixels, ((sy * width) + sx) * 3, 3);
                    }
                }
            }

            landmarks[f] = AffineMatrix.Then(AffineMatrix.Scaling(scale, scale), AffineMatrix.Translation((int)faces[f].X, (int)faces[f].Y)).MapKeypoints(points);
        }

        return (scene, landmarks);
    }
}
