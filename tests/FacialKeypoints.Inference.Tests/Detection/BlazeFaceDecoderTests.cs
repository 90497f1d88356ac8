using FacialKeypoints.Inference.Detection;

namespace FacialKeypoints.Inference.Tests.Detection;

public sealed class BlazeFaceDecoderTests
{
    [Fact]
    public void Anchors_BothLayers_Make896CellCentres()
    {
        var fine = BlazeFaceDecoder.Anchors(16, 2);
        var coarse = BlazeFaceDecoder.Anchors(8, 6);
        (fine.Length + coarse.Length).Should().Be(896);
        fine[0].Should().Be((0.5f / 16, 0.5f / 16));
        fine[1].Should().Be(fine[0]);
        fine[2].Should().Be((1.5f / 16, 0.5f / 16));
        coarse[^1].Should().Be((7.5f / 8, 7.5f / 8));
    }

    [Fact]
    public void Decode_OffsetsArePixelsOfTheInput_AndLowScoresAreDropped()
    {
        var anchors = new[] { (0.25f, 0.5f), (0.75f, 0.5f) };
        float[] logits = [2f, -3f];
        var regressions = new float[32];
        regressions[0] = 16; // x offset: 16 px of a 128 px input
        regressions[1] = -8;
        regressions[2] = 32;
        regressions[3] = 64;
        regressions[4] = 1.28f; // first point's x
        var found = new List<UnitDetection>();
        BlazeFaceDecoder.Decode(logits, regressions, anchors, 128, 0.5f, found);

        var d = found.Should().ContainSingle().Subject;
        d.Score.Should().BeApproximately(1 / (1 + MathF.Exp(-2)), 1e-6f);
        d.CenterX.Should().BeApproximately(0.25f + 0.125f, 1e-6f);
        d.CenterY.Should().BeApproximately(0.5f - 0.0625f, 1e-6f);
        d.Width.Should().BeApproximately(0.25f, 1e-6f);
        d.Height.Should().BeApproximately(0.5f, 1e-6f);
        d.Keypoints[0].Should().BeApproximately(0.26f, 1e-6f);
        d.Keypoints[1].Should().BeApproximately(0.5f, 1e-6f);
    }

    [Fact]
    public void Decode_WrongLengths_Throws() =>
        FluentActions.Invoking(() => BlazeFaceDecoder.Decode(new float[3], new float[32], [(0f, 0f), (1f, 1f)], 128, 0.5f, []))
            .Should().Throw<ArgumentException>().WithMessage("Expected 2 scores*");

    [Fact]
    public void WeightedNonMaxSuppression_BlendsOverlapsByScore_KeepsSeparateFaces()
    {
        var a = new UnitDetection(0.30f, 0.30f, 0.2f, 0.2f, 0.9f, new float[12]);
        var b = new UnitDetection(0.32f, 0.30f, 0.2f, 0.2f, 0.6f, new float[12]);
        var far = new UnitDetection(0.80f, 0.80f, 0.1f, 0.1f, 0.7f, new float[12]);

        var kept = BlazeFaceDecoder.WeightedNonMaxSuppression([b, far, a]);

        kept.Should().HaveCount(2);
        kept[0].Score.Should().Be(0.9f);
        kept[0].CenterX.Should().BeApproximately(((0.30f * 0.9f) + (0.32f * 0.6f)) / 1.5f, 1e-6f);
        kept[1].Should().BeEquivalentTo(far);
    }

    [Fact]
    public void WeightedNonMaxSuppression_DisjointBoxes_AllKept()
    {
        var boxes = Enumerable.Range(0, 5).Select(i => new UnitDetection(0.1f + (0.2f * i), 0.5f, 0.1f, 0.1f, 0.5f + (0.1f * i), new float[12])).ToList();
        BlazeFaceDecoder.WeightedNonMaxSuppression(boxes).Should().HaveCount(5).And.BeInDescendingOrder(d => d.Score);
    }

    [Theory]
    [InlineData(500, 640, new float[] { 0 })]
    [InlineData(1280, 640, new float[] { 0, 320, 640 })]
    [InlineData(720, 640, new float[] { 0, 80 })]
    public void TileStarts_CoverTheLengthWithQuarterOverlap(int length, float side, float[] expected) =>
        BlazeFaceDetector.TileStarts(length, side).Should().Equal(expected);
}
