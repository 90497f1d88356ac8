namespace FacialKeypoints.Emotion.Tests;

/// <summary>
/// The expression features find the eyes, mouth corners and lips through the landmark scheme's named regions and
/// points, not through iBUG indices: the same face written in another scheme (two extra points first, so every index
/// moves) gives the same features, and a scheme that names other points gives other features.
/// </summary>
public sealed class SchemeDrivenFeaturesTests
{
    private static readonly float[] Face = TestFaces.Transform(TestFaces.Frontal(), 1.1f, 0.1f, 30, 20);

    // iBUG-68 behind two extra points (a forehead pair that swap under a flip): every region and point moves by 2.
    private static LandmarkScheme Shifted(Func<string, string>? rename = null)
    {
        var ibug = LandmarkScheme.Ibug68;
        int[] flip = [1, 0, .. ibug.FlipPermutation.Select(i => i + 2)];
        var regions = ibug.Regions.ToDictionary(r => r.Key, r => new Range(r.Value.Start.Value + 2, r.Value.End.Value + 2));
        var points = ibug.Points.ToDictionary(p => rename?.Invoke(p.Key) ?? p.Key, p => p.Value + 2);
        return new LandmarkScheme("shifted70", flip, regions, (ibug.NormalisationPair.First + 2, ibug.NormalisationPair.Second + 2), points);
    }

    private static float[] WithForehead(float[] landmarks) => [100, 20, 120, 20, .. landmarks];

    [Fact]
    public void Geometry_SameFaceInAShiftedScheme_GivesTheSameFeatures()
    {
        var scheme = Shifted();

        var features = GeometryFeatures.Compute(WithForehead(Face), scheme);

        features.Should().Equal(GeometryFeatures.Compute(Face));
        GeometryFeatures.NamesFor(scheme).Should().Contain("p50_u").And.NotContain("p17_u", "the names carry the scheme's own indices");
    }

    [Fact]
    public void Rule_SameFaceInAShiftedScheme_MeasuresTheSameMouth()
    {
        var rule = new HeuristicExpressionClassifier();

        var shifted = rule.Measure(new ExpressionInput(WithForehead(Face)) { Scheme = Shifted(), ImageSize = (200, 200) });

        shifted.Should().Be(rule.Measure(new ExpressionInput(Face) { ImageSize = (200, 200) }));
    }

    [Fact]
    public void Rule_SchemeNamingTheMouthCornersTheOtherWayRound_MeasuresANegativeWidth()
    {
        string Swap(string name) => name switch
        {
            "right_mouth_corner" => "left_mouth_corner",
            "left_mouth_corner" => "right_mouth_corner",
            _ => name,
        };
        var rule = new HeuristicExpressionClassifier();

        var swapped = rule.Measure(new ExpressionInput(WithForehead(Face)) { Scheme = Shifted(Swap), ImageSize = (200, 200) });

        swapped.Width.Should().BeApproximately(-rule.Measure(new ExpressionInput(Face) { ImageSize = (200, 200) }).Width, 1e-9);
    }

    [Fact]
    public void Photometric_AndLandmarkSites_SameFaceInAShiftedScheme_AreTheSame()
    {
        var image = TestFaces.PaintedInFaceFrame(240, 240, Face);
        var scheme = Shifted();

        PhotometricFeatures.Compute(image, WithForehead(Face), scheme).Should().Equal(PhotometricFeatures.Compute(image, Face));
        LandmarkSites.InCrop(WithForehead(Face), CropSpec.Face224, scheme).Should().Equal(LandmarkSites.InCrop(Face, CropSpec.Face224));
    }

    [Fact]
    public void Geometry_SchemeWithoutTheInnerLipPoint_ThrowsNamingThePointAndTheScheme()
    {
        var scheme = Shifted(name => name == "upper_lip_inner" ? "unnamed" : name);

        var act = () => GeometryFeatures.Compute(WithForehead(Face), scheme);

        act.Should().Throw<KeyNotFoundException>().WithMessage("*shifted70*upper_lip_inner*");
    }

    [Fact]
    public void Rule_LandmarksOfAnotherScheme_ThrowsNamingTheScheme()
    {
        var act = () => new HeuristicExpressionClassifier().Measure(new ExpressionInput(Face) { Scheme = Shifted(), ImageSize = (200, 200) });

        act.Should().Throw<ArgumentException>().WithMessage("*shifted70*");
    }
}
