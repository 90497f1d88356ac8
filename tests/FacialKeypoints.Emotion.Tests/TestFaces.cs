using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion.Tests;

/// <summary>Synthetic faces for tests: a plausible 68-point layout and images painted in the face frame.</summary>
internal static class TestFaces
{
    /// <summary>A frontal face: eye corners 36 and 45 at (60, 80) and (140, 80), inter-ocular distance 80, mouth below.</summary>
    public static float[] Frontal()
    {
        var p = new float[136];
        var random = new Random(7);
        for (int i = 0; i < 68; i++)
        {
            // A rough layout in face units (u right, v down), then to pixels.
            float u, v;
            if (i <= 16) { u = -0.9f + (1.8f * i / 16f); v = 0.2f + (1.1f * (1 - MathF.Abs(i - 8) / 8f)); }
            else if (i <= 26) { u = -0.7f + (1.4f * (i - 17) / 9f); v = -0.3f; }
            else if (i <= 35) { u = (i - 31) * 0.08f; v = i <= 30 ? 0.1f * (i - 27) : 0.45f; }
            else if (i <= 47) { float side = i <= 41 ? -0.5f : 0.5f; u = side + (0.2f * MathF.Cos(i)); v = 0.03f * MathF.Sin(i); }
            else { float t = (i - 48) / 12f * 2 * MathF.PI; u = 0.3f * MathF.Cos(t); v = 0.85f + (0.12f * MathF.Sin(t)); }

            p[2 * i] = 100 + (80 * u) + (float)random.NextDouble();
            p[(2 * i) + 1] = 80 + (80 * v) + (float)random.NextDouble();
        }

        (p[72], p[73]) = (60, 80);
        (p[90], p[91]) = (140, 80);
        return p;
    }

    /// <summary>Maps points by scale s, rotation (radians, about the origin) and translation.</summary>
    public static float[] Transform(float[] points, float scale, float radians, float tx, float ty)
    {
        var result = new float[points.Length];
        float c = MathF.Cos(radians), s = MathF.Sin(radians);
        for (int i = 0; i < points.Length; i += 2)
        {
            float x = points[i], y = points[i + 1];
            result[i] = (scale * ((c * x) - (s * y))) + tx;
            result[i + 1] = (scale * ((s * x) + (c * y))) + ty;
        }

        return result;
    }

    /// <summary>An image whose colour at each pixel is a smooth function of that pixel's face-frame coordinates.</summary>
    public static RgbImage PaintedInFaceFrame(int width, int height, float[] landmarks)
    {
        var frame = FaceFrame.FromLandmarks(landmarks);
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var (u, v) = frame.ToFace(x, y);
                int o = ((y * width) + x) * 3;
                image.Pixels[o] = (byte)Math.Clamp(128 + (100 * MathF.Sin(3 * u)), 0, 255);
                image.Pixels[o + 1] = (byte)Math.Clamp(128 + (100 * MathF.Cos(2.5f * v)), 0, 255);
                image.Pixels[o + 2] = (byte)Math.Clamp(128 + (60 * MathF.Sin(2 * (u + v))), 0, 255);
            }
        }

        return image;
    }
}
