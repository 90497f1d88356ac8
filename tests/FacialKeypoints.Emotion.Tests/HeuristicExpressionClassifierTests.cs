namespace FacialKeypoints.Emotion.Tests;

public class HeuristicExpressionClassifierTests
{
    // A face in pixel space with s = |p45 - p36| = 100, built so that w, h and c take chosen values.
    private static ExpressionInput Face(double w, double h, double c, int width = 224, int height = 224)
    {
        var p = new float[136];
        (p[72], p[73]) = (50, 60);     // 36
        (p[90], p[91]) = (150, 60);    // 45
        float p62y = 150;
        float cornersY = p62y + (float)(c * 100);
        (p[96], p[97]) = (100 - (float)(w * 50), cornersY);  // 48
        (p[108], p[109]) = (100 + (float)(w * 50), cornersY); // 54
        float p51y = 140;
        (p[102], p[103]) = (100, p51y);                   // 51
        (p[114], p[115]) = (100, p51y + (float)(h * 100)); // 57
        (p[124], p[125]) = (100, p62y);                   // 62
        return new ExpressionInput(p) { ImageSize = (width, height) };
    }

    public static TheoryData<double, double, double, ExpressionLabel> Branches => new()
    {
        { 0.8, 0.2, -0.02, ExpressionLabel.Positive },   // corners up, wide
        { 0.6, 0.2, -0.02, ExpressionLabel.Neutral },    // corners up but narrow: not positive, c and h small
        { 0.6, 0.2, 0.03, ExpressionLabel.Negative },    // corners down
        { 0.8, 0.35, 0.0, ExpressionLabel.Negative },    // mouth open tall
        { 0.8, 0.35, -0.02, ExpressionLabel.Positive },  // positive wins over a tall mouth
        { 0.8, 0.2, 0.0, ExpressionLabel.Neutral },
        { 0.8, 0.32, 0.02, ExpressionLabel.Neutral },    // both negative thresholds are strict
    };

    [Theory]
    [MemberData(nameof(Branches))]
    public void Classify_HandComputedFace_FollowsTheRule(double w, double h, double c, ExpressionLabel expected)
    {
        var rule = new HeuristicExpressionClassifier();

        var prediction = rule.Classify(Face(w, h, c));

        prediction.Label.Should().Be(expected);
        prediction.Probabilities[expected].Should().Be(1f);
        prediction.Probabilities.Values.Sum().Should().Be(1f);
    }

    [Fact]
    public void Measure_SquareImageOf224_GivesTheConstructedValues()
    {
        var m = new HeuristicExpressionClassifier().Measure(Face(0.8, 0.3, -0.02));

        m.Width.Should().BeApproximately(0.8, 1e-5);
        m.Height.Should().BeApproximately(0.3, 1e-5);
        m.CornerDrop.Should().BeApproximately(-0.02, 1e-5);
    }

    [Fact]
    public void Measure_NonSquareImage_RescalesTo224FrameLikeTheReference()
    {
        // Image 448 wide and 224 high: x is halved, so s = 50 and w stays 0.8 while h and c double.
        var m = new HeuristicExpressionClassifier().Measure(Face(0.8, 0.1, -0.01, width: 448, height: 224));

        m.Width.Should().BeApproximately(0.8, 1e-5);
        m.Height.Should().BeApproximately(0.2, 1e-5);
        m.CornerDrop.Should().BeApproximately(-0.02, 1e-5);
    }

    [Fact]
    public void Measure_PixelFrame_IgnoresImageSize()
    {
        var rule = new HeuristicExpressionClassifier(new HeuristicExpressionOptions { UseReferenceFrame = false });

        var m = rule.Measure(Face(0.8, 0.1, -0.01, width: 448, height: 224) with { ImageSize = null });

        m.Height.Should().BeApproximately(0.1, 1e-5);
    }

    [Fact]
    public void Measure_ReferenceFrameWithoutImageSize_Throws()
    {
        var act = () => new HeuristicExpressionClassifier().Measure(Face(0.8, 0.1, 0) with { ImageSize = null });

        act.Should().Throw<ArgumentException>().WithMessage("*image size*");
    }

    [Fact]
    public void Classify_CustomThresholds_AreUsed()
    {
        var rule = new HeuristicExpressionClassifier(new HeuristicExpressionOptions { PositiveMinWidth = 0.9 });

        rule.Classify(Face(0.8, 0.2, -0.02)).Label.Should().Be(ExpressionLabel.Neutral);
    }

    [Fact]
    public void Constructor_OutOfRangeOption_Throws()
    {
        var act = () => new HeuristicExpressionClassifier(new HeuristicExpressionOptions { ReferenceSize = 0 });

        act.Should().Throw<System.ComponentModel.DataAnnotations.ValidationException>();
    }
}
