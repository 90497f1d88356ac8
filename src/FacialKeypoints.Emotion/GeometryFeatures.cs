using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion;

/// <summary>
/// Landmark geometry for expression: the points of the brows, lower nose, chin and mouth in the <see cref="FaceFrame"/>
/// (eye-aligned, inter-ocular scaled) and mouth, eye and brow measurements derived from them. Invariant to image
/// scale, translation and in-plane rotation. The points come from the <see cref="LandmarkScheme"/>'s named regions
/// and points (<see cref="FacePoints"/>), so any scheme that names them works; for iBUG-68 there are 82 features.
/// </summary>
internal static class GeometryFeatures
{
    /// <summary>The feature definition's version, stored with fitted parameters.</summary>
    public const string Version = "geometry-v1";

    private static readonly string[] DerivedNames =
    [
        "mouth_width", "mouth_outer_height", "mouth_inner_height", "corner_drop_inner_upper", "corner_drop_centre",
        "corner_drop_inner_lower", "mouth_aspect_angle", "mouth_corner_asymmetry", "upper_lip_dip",
        "eye_openness", "brow_height", "brow_gap", "corner_to_nose", "lower_lip_to_chin",
    ];

    /// <summary>The number of features for iBUG-68 (the shipped parameters' scheme).</summary>
    public static int Count => CountFor(LandmarkScheme.Ibug68);

    /// <summary>Feature names in order for iBUG-68, for reports.</summary>
    public static IReadOnlyList<string> Names { get; } = NamesFor(LandmarkScheme.Ibug68);

    /// <summary>The number of features for a scheme.</summary>
    public static int CountFor(LandmarkScheme scheme) => (2 * PositionPoints(scheme).Count) + DerivedNames.Length;

    /// <summary>Feature names in order for a scheme: <c>p{index}_u</c>, <c>p{index}_v</c> per point, then the measurements.</summary>
    public static IReadOnlyList<string> NamesFor(LandmarkScheme scheme) =>
        [.. PositionPoints(scheme).SelectMany(p => new[] { $"p{p}_u", $"p{p}_v" }), .. DerivedNames];

    /// <summary>Computes the features of one face.</summary>
    /// <param name="landmarks">Flat landmarks of <paramref name="scheme"/> in any image frame.</param>
    /// <param name="scheme">The landmark scheme; iBUG-68 when null.</param>
    /// <returns><see cref="CountFor"/> values.</returns>
    /// <exception cref="ArgumentException">The landmarks do not fit the scheme, or the eye corners coincide.</exception>
    /// <exception cref="KeyNotFoundException">The scheme lacks a region or point the features read.</exception>
    public static float[] Compute(ReadOnlySpan<float> landmarks, LandmarkScheme? scheme = null)
    {
        scheme ??= LandmarkScheme.Ibug68;
        var frame = FaceFrame.FromLandmarks(landmarks, scheme);
        var u = new float[scheme.Count];
        var v = new float[scheme.Count];
        for (int i = 0; i < scheme.Count; i++)
        {
            (u[i], v[i]) = frame.ToFace(landmarks[2 * i], landmarks[(2 * i) + 1]);
        }

        var points = PositionPoints(scheme);
        var m = new FacePoints(scheme);
        var features = new float[CountFor(scheme)];
        int k = 0;
        foreach (int p in points)
        {
            features[k++] = u[p];
            features[k++] = v[p];
        }

        float cornersV = (v[m.RightMouthCorner] + v[m.LeftMouthCorner]) / 2;
        float width = u[m.LeftMouthCorner] - u[m.RightMouthCorner];
        float outer = v[m.LowerLipBottom] - v[m.UpperLipTop];
        features[k++] = width;
        features[k++] = outer;
        features[k++] = v[m.LowerLipInner] - v[m.UpperLipInner];
        features[k++] = cornersV - v[m.UpperLipInner];
        features[k++] = cornersV - ((v[m.UpperLipTop] + v[m.LowerLipBottom]) / 2);
        features[k++] = cornersV - v[m.LowerLipInner];
        features[k++] = MathF.Atan2(outer, MathF.Max(width, 1e-3f));
        features[k++] = MathF.Abs(v[m.LeftMouthCorner] - v[m.RightMouthCorner]);
        features[k++] = v[m.UpperLipTop] - ((v[m.RightUpperLipPeak] + v[m.LeftUpperLipPeak]) / 2);
        features[k++] = ((Mean(v, scheme, "right_lower_eyelid") - Mean(v, scheme, "right_upper_eyelid"))
            + (Mean(v, scheme, "left_lower_eyelid") - Mean(v, scheme, "left_upper_eyelid"))) / 2;
        features[k++] = Mean(v, scheme, "right_eye", "left_eye") - Mean(v, scheme, "right_brow", "left_brow");
        features[k++] = u[m.LeftBrowInner] - u[m.RightBrowInner];
        features[k++] = cornersV - v[m.NoseBase];
        features[k++] = v[m.Chin] - v[m.LowerLipBottom];
        return features;
    }

    /// <summary>The points whose face-frame coordinates are features: brows, lower nose, chin, mouth.</summary>
    private static List<int> PositionPoints(LandmarkScheme scheme) =>
    [
        .. scheme.IndicesOf("right_brow"), .. scheme.IndicesOf("left_brow"), .. scheme.IndicesOf("lower_nose"),
        scheme.PointOf(FacePoints.ChinName), .. scheme.IndicesOf("mouth"),
    ];

    private static float Mean(float[] values, LandmarkScheme scheme, params string[] regions)
    {
        float sum = 0;
        int count = 0;
        foreach (int i in regions.SelectMany(scheme.IndicesOf))
        {
            sum += values[i];
            count++;
        }

        return sum / count;
    }
}
