using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion;

/// <summary>
/// Colour cues of a smile that the landmark outline misses: teeth (bright, low-saturation pixels) and the dark
/// cavity inside the lips, measured relative to the face's own skin so that lighting and skin tone cancel. The lower
/// face is resampled eye-aligned and inter-ocular scaled (<see cref="AlignedCrop"/>), so the values do not depend on
/// image scale, position or in-plane rotation. The lips come from the scheme's <c>inner_lip</c> and <c>outer_lip</c>
/// regions, the cheeks from its outer eye corners and mouth corners.
/// </summary>
internal static class PhotometricFeatures
{
    /// <summary>The feature definition's version, stored with fitted parameters.</summary>
    public const string Version = "photometric-v1";

    // The lower face, 1.6 inter-ocular distances wide, centred 0.8 below the eyes; 96 px (60 px per inter-ocular distance).
    private static readonly CropSpec Region = new(0f, 0.8f, 1.6f, 96);

    private static readonly string[] StatNames = ["brightness", "saturation", "bright_fraction", "teeth_fraction", "dark_fraction"];

    /// <summary>Feature names in order, for reports.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. new[] { "inner", "outer" }.SelectMany(region => StatNames.Select(s => $"{region}_{s}"))];

    /// <summary>The number of features.</summary>
    public static int Count => Names.Count;

    /// <summary>Computes the features of one face.</summary>
    /// <param name="image">The original image.</param>
    /// <param name="landmarks">Its landmarks in the image's pixels.</param>
    /// <param name="scheme">Their scheme; iBUG-68 when null.</param>
    /// <returns><see cref="Count"/> values: for the inner-lip and then the outer-lip polygon, the mean brightness
    /// and saturation relative to the skin's, and the fractions of pixels brighter than the skin, teeth-like
    /// (at least 0.8 of the skin's brightness and at most half its saturation) and dark (under half its brightness).</returns>
    /// <exception cref="ArgumentException">The landmarks do not fit the scheme, or the eye corners coincide.</exception>
    /// <exception cref="KeyNotFoundException">The scheme lacks the lip regions or the mouth corners.</exception>
    public static float[] Compute(RgbImage image, ReadOnlySpan<float> landmarks, LandmarkScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        scheme ??= LandmarkScheme.Ibug68;
        var crop = AlignedCrop.Extract(image, landmarks, Region, scheme);
        var points = ToCrop(landmarks, scheme);
        var m = new FacePoints(scheme);
        var (skinBrightness, skinSaturation) = Skin(crop, points, [(m.RightEyeOuter, m.RightMouthCorner), (m.LeftEyeOuter, m.LeftMouthCorner)]);
        var result = new float[Count];
        Stats(crop, Polygon(points, scheme.IndicesOf("inner_lip")), skinBrightness, skinSaturation, result.AsSpan(0, StatNames.Length));
        Stats(crop, Polygon(points, scheme.IndicesOf("outer_lip")), skinBrightness, skinSaturation, result.AsSpan(StatNames.Length, StatNames.Length));
        return result;
    }

    private static float[] ToCrop(ReadOnlySpan<float> landmarks, LandmarkScheme scheme)
    {
        var frame = FaceFrame.FromLandmarks(landmarks, scheme);
        float step = Region.Extent / Region.Size;
        float u0 = Region.CenterU - (Region.Extent / 2), v0 = Region.CenterV - (Region.Extent / 2);
        var result = new float[landmarks.Length];
        for (int i = 0; i < landmarks.Length / 2; i++)
        {
            var (u, v) = frame.ToFace(landmarks[2 * i], landmarks[(2 * i) + 1]);
            result[2 * i] = (u - u0) / step;
            result[(2 * i) + 1] = (v - v0) / step;
        }

        return result;
    }

    private static (float X, float Y)[] Polygon(float[] points, IEnumerable<int> indices) =>
        [.. indices.Select(i => (points[2 * i], points[(2 * i) + 1]))];

    private static (float Brightness, float Saturation) Pixel(RgbImage crop, int x, int y)
    {
        int o = ((y * crop.Width) + x) * 3;
        float r = crop.Pixels[o], g = crop.Pixels[o + 1], b = crop.Pixels[o + 2];
        float max = MathF.Max(r, MathF.Max(g, b)), min = MathF.Min(r, MathF.Min(g, b));
        return ((r + g + b) / 3f, max <= 0 ? 0 : (max - min) / max);
    }

    // The skin: median brightness and saturation of two cheek patches (radius 0.1 inter-ocular distances), each
    // halfway between an outer eye corner and the mouth corner below it.
    private static (float Brightness, float Saturation) Skin(RgbImage crop, float[] points, (int Eye, int Mouth)[] cheeks)
    {
        float radius = 0.1f * Region.Size / Region.Extent;
        var brightness = new List<float>();
        var saturation = new List<float>();
        foreach (var (eye, mouth) in cheeks)
        {
            float cx = (points[2 * eye] + points[2 * mouth]) / 2, cy = (points[(2 * eye) + 1] + points[(2 * mouth) + 1]) / 2;
            for (int y = (int)MathF.Floor(cy - radius); y <= (int)MathF.Ceiling(cy + radius); y++)
            {
                for (int x = (int)MathF.Floor(cx - radius); x <= (int)MathF.Ceiling(cx + radius); x++)
                {
                    if (x < 0 || y < 0 || x >= crop.Width || y >= crop.Height || ((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) > radius * radius)
                    {
                        continue;
                    }

                    var (l, s) = Pixel(crop, x, y);
                    brightness.Add(l);
                    saturation.Add(s);
                }
            }
        }

        return brightness.Count == 0 ? (128f, 0.3f) : (MathF.Max(Median(brightness), 1f), MathF.Max(Median(saturation), 0.02f));
    }

    private static void Stats(RgbImage crop, (float X, float Y)[] polygon, float skinBrightness, float skinSaturation, Span<float> output)
    {
        float sumL = 0, sumS = 0;
        int count = 0, bright = 0, teeth = 0, dark = 0;
        for (int y = 0; y < crop.Height; y++)
        {
            for (int x = 0; x < crop.Width; x++)
            {
                if (!Inside(polygon, x + 0.5f, y + 0.5f))
                {
                    continue;
                }

                var (l, s) = Pixel(crop, x, y);
                float relL = l / skinBrightness, relS = s / skinSaturation;
                sumL += relL;
                sumS += relS;
                count++;
                bright += relL > 1 ? 1 : 0;
                teeth += relL >= 0.8f && relS <= 0.5f ? 1 : 0;
                dark += relL < 0.5f ? 1 : 0;
            }
        }

        // A closed (degenerate) polygon reads as lips like the skin: ratios 1, no teeth, no cavity.
        output[0] = count == 0 ? 1 : sumL / count;
        output[1] = count == 0 ? 1 : sumS / count;
        output[2] = count == 0 ? 0 : bright / (float)count;
        output[3] = count == 0 ? 0 : teeth / (float)count;
        output[4] = count == 0 ? 0 : dark / (float)count;
    }

    // Even-odd rule.
    private static bool Inside((float X, float Y)[] polygon, float x, float y)
    {
        bool inside = false;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            var (xi, yi) = polygon[i];
            var (xj, yj) = polygon[j];
            if ((yi > y) != (yj > y) && x < ((xj - xi) * (y - yi) / (yj - yi)) + xi)
            {
                inside = !inside;
            }
        }

        return inside;
    }

    private static float Median(List<float> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }
}
