namespace FacialKeypoints.Core.Tests;

public sealed class LandmarkSchemeTests
{
    private static readonly LandmarkScheme Scheme = LandmarkScheme.Ibug68;

    [Fact]
    public void Ibug68_Describes68PointsWithOuterEyeCornerPair()
    {
        Scheme.Count.Should().Be(68);
        Scheme.ValueCount.Should().Be(136);
        Scheme.NormalisationPair.Should().Be((36, 45));
        Scheme.IndicesOf("mouth").Should().Equal(Enumerable.Range(48, 20));
        Scheme.IndicesOf("jaw").Should().HaveCount(17);
    }

    [Fact]
    public void FlipPermutation_AppliedTwice_IsIdentity()
    {
        for (int i = 0; i < Scheme.Count; i++)
        {
            Scheme.FlipPermutation[Scheme.FlipPermutation[i]].Should().Be(i);
        }
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(8, 8)]
    [InlineData(17, 26)]
    [InlineData(27, 27)]
    [InlineData(31, 35)]
    [InlineData(36, 45)]
    [InlineData(39, 42)]
    [InlineData(41, 46)]
    [InlineData(48, 54)]
    [InlineData(51, 51)]
    [InlineData(59, 55)]
    [InlineData(60, 64)]
    [InlineData(67, 65)]
    public void FlipPermutation_PairsMirrorPoints(int point, int mirror) => Scheme.FlipPermutation[point].Should().Be(mirror);

    [Fact]
    public void FlipPermutation_MapsEveryRegionToItsMirrorRegion()
    {
        Scheme.IndicesOf("right_eye").Select(i => Scheme.FlipPermutation[i]).Should().BeEquivalentTo(Scheme.IndicesOf("left_eye"));
        Scheme.IndicesOf("right_brow").Select(i => Scheme.FlipPermutation[i]).Should().BeEquivalentTo(Scheme.IndicesOf("left_brow"));
        Scheme.IndicesOf("mouth").Select(i => Scheme.FlipPermutation[i]).Should().BeEquivalentTo(Scheme.IndicesOf("mouth"));
    }

    [Theory]
    [InlineData("chin", 8)]
    [InlineData("right_mouth_corner", 48)]
    [InlineData("left_mouth_corner", 54)]
    [InlineData("upper_lip_inner", 62)]
    [InlineData("right_eye_outer", 36)]
    [InlineData("left_brow_inner", 22)]
    public void PointOf_Ibug68_NamesTheIbugIndex(string point, int index) => Scheme.PointOf(point).Should().Be(index);

    [Fact]
    public void Points_Ibug68_EveryRightPointFlipsToItsLeftTwin()
    {
        foreach (var (name, index) in Scheme.Points.Where(p => p.Key.StartsWith("right_", StringComparison.Ordinal)))
        {
            Scheme.FlipPermutation[index].Should().Be(Scheme.PointOf("left_" + name["right_".Length..]), name);
        }

        Scheme.IndicesOf("right_upper_eyelid").Select(i => Scheme.FlipPermutation[i]).Should().BeEquivalentTo(Scheme.IndicesOf("left_upper_eyelid"));
    }

    [Fact]
    public void PointOf_Unknown_ThrowsNamingTheSchemeAndThePoint()
    {
        var act = () => Scheme.PointOf("third_eye");
        act.Should().Throw<KeyNotFoundException>().WithMessage("*ibug68*third_eye*");
    }

    [Fact]
    public void Constructor_PointOutOfRange_Throws()
    {
        var act = () => new LandmarkScheme("bad", [1, 0], new Dictionary<string, Range>(), (0, 1), new Dictionary<string, int> { ["chin"] = 2 });
        act.Should().Throw<ArgumentException>().WithMessage("*chin*outside*");
    }

    [Fact]
    public void Constructor_NonInvolution_Throws()
    {
        var act = () => new LandmarkScheme("bad", [1, 2, 0], new Dictionary<string, Range>(), (0, 1));
        act.Should().Throw<ArgumentException>().WithMessage("*not an involution*");
    }

    [Fact]
    public void Constructor_IndexOutOfRange_Throws()
    {
        var act = () => new LandmarkScheme("bad", [0, 5], new Dictionary<string, Range>(), (0, 1));
        act.Should().Throw<ArgumentException>().WithMessage("*outside*");
    }

    [Fact]
    public void Constructor_SameNormalisationPoints_Throws()
    {
        var act = () => new LandmarkScheme("bad", [1, 0], new Dictionary<string, Range>(), (1, 1));
        act.Should().Throw<ArgumentException>().WithMessage("*two different points*");
    }

    [Fact]
    public void Constructor_CustomScheme_WorksWithoutCountAssumptions()
    {
        var fivePoint = new LandmarkScheme("five", [1, 0, 2, 4, 3], new Dictionary<string, Range> { ["eyes"] = 0..2 }, (0, 1));
        fivePoint.Count.Should().Be(5);
        fivePoint.NormalisingDistance([0, 0, 3, 4, 0, 0, 0, 0, 0, 0]).Should().Be(5);
    }

    [Fact]
    public void FromName_Unknown_Throws() =>
        FluentActions.Invoking(() => LandmarkScheme.FromName("nope")).Should().Throw<ArgumentException>().WithMessage("*Unknown landmark scheme*");
}
