using FacialKeypoints.Data;
using FacialKeypoints.Training.Metrics;

namespace FacialKeypoints.Training.Tests.Metrics;

public sealed class KeypointMetricsTests
{
    /// <summary>A 3-point scheme whose normalisation pair is points 0 and 1.</summary>
    private static readonly LandmarkScheme Three = new("three", [1, 0, 2], new Dictionary<string, Range>(), (0, 1));

    [Fact]
    public void MeanPointError_HandComputed()
    {
        float[] truth = [0, 0, 10, 0, 5, 5];
        float[] predicted = [3, 4, 10, 0, 5, 7]; // errors 5, 0, 2
        KeypointMetrics.MeanPointError(predicted, truth).Should().BeApproximately(7.0 / 3, 1e-9);
        KeypointMetrics.MeanAbsoluteError(predicted, truth).Should().BeApproximately((3 + 4 + 0 + 0 + 0 + 2) / 6.0, 1e-9);
    }

    [Fact]
    public void Nme_DividesByNormalisingDistance()
    {
        float[] truth = [0, 0, 10, 0, 5, 5];
        float[] predicted = [3, 4, 10, 0, 5, 7];
        KeypointMetrics.Nme(predicted, truth, Three).Should().BeApproximately(7.0 / 3 / 10, 1e-9);
    }

    [Fact]
    public void Nme_ZeroNormaliser_IsNaNNotInfinity() =>
        KeypointMetrics.Nme([1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 5, 5], Three).Should().Be(double.NaN);

    [Theory]
    [InlineData(0.5, 0.125)]
    [InlineData(2.0, 1.5)]
    public void SmoothL1_QuadraticBelowBetaLinearAbove(float difference, double expected) =>
        KeypointMetrics.SmoothL1([difference, 0], [0, 0]).Should().BeApproximately(expected / 2, 1e-9);

    [Fact]
    public void ToReferenceFrame_ScalesAxesSeparately() =>
        KeypointMetrics.ToReferenceFrame([100, 50], 448, 112).Should().Equal(50f, 100f);

    [Fact]
    public void MetricLengths_Mismatch_Throws() =>
        FluentActions.Invoking(() => KeypointMetrics.MeanPointError([1, 2], [1, 2, 3, 4])).Should().Throw<ArgumentException>();

    [Fact]
    public void Accumulator_HandComputedTwoImages()
    {
        var accumulator = new MetricAccumulator(Three);
        // Image 1: 224 x 224, errors (3,4), 0, (0,2): MPE 7/3, inter-ocular 10, NME 0.2333.
        accumulator.Update("a", [3, 4, 10, 0, 5, 7], [0, 0, 10, 0, 5, 5], 224, 224);
        // Image 2: 112 x 448 (x doubles, y halves in the 224 frame); perfect prediction.
        accumulator.Update("b", [10, 10, 30, 10, 20, 20], [10, 10, 30, 10, 20, 20], 112, 448);
        var summary = accumulator.Compute();
        summary.Images.Should().Be(2);
        summary.Mpe224.Should().BeApproximately(7.0 / 6, 1e-9);
        summary.Nme.Should().BeApproximately(7.0 / 30 / 2, 1e-9);
        summary.NmeOriginal.Should().BeApproximately(7.0 / 30 / 2, 1e-9);
        summary.Mae224.Should().BeApproximately(9.0 / 12, 1e-9);
        summary.Rmse224.Should().BeApproximately(Math.Sqrt((9 + 16 + 4) / 12.0), 1e-9);
        summary.FailureRate008.Should().Be(0.5);
        summary.FailureRate010.Should().Be(0.5);
        accumulator.Errors.Select(e => e.Name).Should().Equal("a", "b");
    }

    [Fact]
    public void Accumulator_NmeInFrameAndOriginalDifferForNonSquareImages()
    {
        var accumulator = new MetricAccumulator(Three);
        // 448 wide: the 224 frame halves x; the error is along y, so it keeps its size while the eye distance halves.
        accumulator.Update("a", [0, 2, 20, 0, 0, 0], [0, 0, 20, 0, 0, 0], 448, 224);
        var error = accumulator.Errors.Single();
        error.NmeOriginal.Should().BeApproximately(2.0 / 3 / 20, 1e-9);
        error.Nme.Should().BeApproximately(2.0 / 3 / 10, 1e-9);
    }

    [Fact]
    public void Accumulator_Empty_Throws() =>
        FluentActions.Invoking(() => new MetricAccumulator(Three).Compute()).Should().Throw<InvalidOperationException>();
}
