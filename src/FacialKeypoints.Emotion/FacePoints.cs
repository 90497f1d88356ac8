namespace FacialKeypoints.Emotion;

/// <summary>
/// The named points of a <see cref="LandmarkScheme"/> that the expression features measure (see
/// <see cref="LandmarkScheme.Points"/>), resolved to indices once. "Right" and "left" are the subject's.
/// </summary>
internal readonly struct FacePoints
{
    /// <summary>The chin's name in <see cref="LandmarkScheme.Points"/>.</summary>
    public const string ChinName = "chin";

    /// <summary>Looks every point up.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <exception cref="KeyNotFoundException">The scheme lacks one of the points; the message names it and the scheme.</exception>
    public FacePoints(LandmarkScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        (RightEyeOuter, LeftEyeOuter) = scheme.NormalisationPair;
        RightMouthCorner = scheme.PointOf("right_mouth_corner");
        LeftMouthCorner = scheme.PointOf("left_mouth_corner");
        UpperLipTop = scheme.PointOf("upper_lip_top");
        LowerLipBottom = scheme.PointOf("lower_lip_bottom");
        UpperLipInner = scheme.PointOf("upper_lip_inner");
        LowerLipInner = scheme.PointOf("lower_lip_inner");
        RightUpperLipPeak = scheme.PointOf("right_upper_lip_peak");
        LeftUpperLipPeak = scheme.PointOf("left_upper_lip_peak");
        RightBrowInner = scheme.PointOf("right_brow_inner");
        LeftBrowInner = scheme.PointOf("left_brow_inner");
        NoseBase = scheme.PointOf("nose_base");
        Chin = scheme.PointOf(ChinName);
    }

    /// <summary>The outer eye corners: the scheme's normalisation pair.</summary>
    public int RightEyeOuter { get; }

    /// <summary>The other outer eye corner.</summary>
    public int LeftEyeOuter { get; }

    public int RightMouthCorner { get; }

    public int LeftMouthCorner { get; }

    /// <summary>The centre of the upper lip's outer edge (iBUG 51).</summary>
    public int UpperLipTop { get; }

    /// <summary>The centre of the lower lip's outer edge (iBUG 57).</summary>
    public int LowerLipBottom { get; }

    /// <summary>The centre of the upper lip's inner edge (iBUG 62).</summary>
    public int UpperLipInner { get; }

    /// <summary>The centre of the lower lip's inner edge (iBUG 66).</summary>
    public int LowerLipInner { get; }

    public int RightUpperLipPeak { get; }

    public int LeftUpperLipPeak { get; }

    public int RightBrowInner { get; }

    public int LeftBrowInner { get; }

    /// <summary>The bottom of the nose between the nostrils (iBUG 33).</summary>
    public int NoseBase { get; }

    public int Chin { get; }
}
