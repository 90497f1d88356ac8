using FacialKeypoints.Emotion;
using FacialKeypoints.Emotion.Tests;
using FacialKeypoints.EmotionFit.Fitting;

namespace FacialKeypoints.EmotionFit.Tests.Fitting;

public class ConfusionMatrixTests
{
    [Fact]
    public void Scores_HandComputedMatrix_MatchPrecisionRecallF1()
    {
        // Actual positive: 3 called positive, 1 neutral. Actual neutral: 1 positive, 5 neutral.
        var m = ConfusionMatrix.From(
            [.. Enumerable.Repeat(ExpressionLabel.Positive, 4), .. Enumerable.Repeat(ExpressionLabel.Neutral, 6)],
            [ExpressionLabel.Positive, ExpressionLabel.Positive, ExpressionLabel.Positive, ExpressionLabel.Neutral,
             ExpressionLabel.Positive, .. Enumerable.Repeat(ExpressionLabel.Neutral, 5)]);

        m.Total.Should().Be(10);
        m.Accuracy.Should().BeApproximately(0.8, 1e-12);
        m.Precision(ExpressionLabel.Positive).Should().BeApproximately(0.75, 1e-12);
        m.Recall(ExpressionLabel.Positive).Should().BeApproximately(0.75, 1e-12);
        m.F1(ExpressionLabel.Positive).Should().BeApproximately(0.75, 1e-12);
        m.Precision(ExpressionLabel.Neutral).Should().BeApproximately(5.0 / 6, 1e-12);
        m.F1(ExpressionLabel.Negative).Should().Be(0);
        m[ExpressionLabel.Neutral, ExpressionLabel.Positive].Should().Be(1);
        m.ToMarkdown().Should().Contain("| positive | 1 | 3 | 0 | 4 |");
    }

    [Fact]
    public void Scores_Empty_AreZero()
    {
        var m = new ConfusionMatrix();

        m.Accuracy.Should().Be(0);
        m.MacroF1.Should().Be(0);
    }
}
