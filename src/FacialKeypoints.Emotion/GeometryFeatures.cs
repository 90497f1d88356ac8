using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion;

/// <summary>
/// Landmark geometry for expression: selected points in the <see cref="FaceFrame"/> (eye-aligned, inter-ocular
/// scaled) and mouth, eye and brow measurements derived from them. Invariant to image scale, translation and
/// in-plane rotation. Written for the iBUG 68-point scheme.
/// </summary>
public static class GeometryFeatures
{
    /// <summary>The feature definition's version, stored with fitted parameters.</summary>
    public const string Version = "geometry-v1";

    /// <summary>The points whose face-frame coordinates are features: brows, lower nose, chin, mouth.</summary>
    private static readonly int[] Points =
    [
        17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
        30, 31, 32, 33, 34, 35,
        8,
        48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
        60, 61, 62, 63, 64, 65, 66, 67,
    ];

    private static readonly string[] DerivedNames =
    [
        "mouth_width", "mouth_outer_height", "mouth_inner_height", "corner_drop_inner_upper", "corner_drop_centre",
        "corner_drop_inner_lower", "mouth_aspect_angle", "mouth_corner_asymmetry", "upper_lip_dip",
        "eye_openness", "brow_height", "brow_gap", "corner_to_nose", "lower_lip_to_chin",
    ];

    /// <summary>The number of features.</summary>
    public static int Count => (2 * Points.Length) + DerivedNames.Length;

    /// <summary>Feature names in order, for reports.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. Points.SelectMany(p => new[] { $"p{p}_u", $"p{p}_v" }), .. DerivedNames];

    /// <summary>Computes the features of one face.</summary>
    /// <param name="landmarks">Flat 68-point landmarks in any image frame.</param>
    /// <returns><see cref="Count"/> values.</returns>
    /// <exception cref="ArgumentException">Not 136 values, or the eye corners coincide.</exception>
    public static float[] Compute(ReadOnlySpan<float> landmarks)
    {
        var frame = FaceFrame.FromLandmarks(landmarks, LandmarkScheme.Ibug68);
        var u = new float[68];
        var v = new float[68];
        for (int i = 0; i < 68; i++)
        {
            (u[i], v[i]) = frame.ToFace(landmarks[2 * i], landmarks[(2 * i) + 1]);
        }

        var features = new float[Count];
        int k = 0;
        foreach (int p in Points)
        {
            features[k++] = u[p];
            features[k++] = v[p];
        }

        float cornersV = (v[48] + v[54]) / 2;
        float width = u[54] - u[48];
        float outer = v[57] - v[51];
        features[k++] = width;
        features[k++] = outer;
        features[k++] = v[66] - v[62];
        features[k++] = cornersV - v[62];
        features[k++] = cornersV - ((v[51] + v[57]) / 2);
        features[k++] = cornersV - v[66];
        features[k++] = MathF.Atan2(outer, MathF.Max(width, 1e-3f));
        features[k++] = MathF.Abs(v[54] - v[48]);
        features[k++] = v[51] - ((v[50] + v[52]) / 2);
        features[k++] = ((v[41] - v[37]) + (v[40] - v[38]) + (v[47] - v[43]) + (v[46] - v[44])) / 4;
        features[k++] = Mean(v, 36, 48) - Mean(v, 17, 27);
        features[k++] = u[22] - u[21];
        features[k++] = cornersV - v[33];
        features[k++] = v[8] - v[57];
        return features;
    }

    private static float Mean(float[] values, int from, int to)
    {
        float sum = 0;
        for (int i = from; i < to; i++)
        {
            sum += values[i];
        }

        return sum / (to - from);
    }
}
