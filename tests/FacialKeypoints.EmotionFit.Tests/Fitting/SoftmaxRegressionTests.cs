using FacialKeypoints.Emotion;
using FacialKeypoints.Emotion.Tests;
using FacialKeypoints.EmotionFit.Fitting;

namespace FacialKeypoints.EmotionFit.Tests.Fitting;

public class SoftmaxRegressionTests
{
    private static (List<float[]> X, List<int> Y) Blobs(int perClass, int seed)
    {
        var random = new Random(seed);
        var x = new List<float[]>();
        var y = new List<int>();
        float[][] centres = [[0, 0, 0], [3, 0, 1], [0, 3, -1]];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < perClass; i++)
            {
                x.Add([.. centres[c].Select(m => m + (float)(random.NextDouble() - 0.5))]);
                y.Add(c);
            }
        }

        return (x, y);
    }

    [Fact]
    public void Fit_SeparableBlobs_ClassifiesEveryPoint()
    {
        var (x, y) = Blobs(20, 1);

        var model = SoftmaxRegression.Fit(x, y, 3, new SoftmaxRegressionOptions { L2 = 1e-3 });

        for (int i = 0; i < x.Count; i++)
        {
            var p = model.PredictProbabilities(x[i]);
            p.Sum().Should().BeApproximately(1f, 1e-4f);
            Array.IndexOf(p, p.Max()).Should().Be(y[i]);
        }
    }

    [Fact]
    public void Fit_BalancedClassWeights_RaiseTheRareClassProbability()
    {
        // One feature carries no information; the rare class's probability follows its weight.
        var x = Enumerable.Range(0, 100).Select(i => new[] { (float)(i % 7) }).ToList();
        var y = Enumerable.Range(0, 100).Select(i => i < 10 ? 1 : 0).ToList();

        var plain = SoftmaxRegression.Fit(x, y, 2, new SoftmaxRegressionOptions { ClassWeightPower = 0, L2 = 1 });
        var balanced = SoftmaxRegression.Fit(x, y, 2, new SoftmaxRegressionOptions { ClassWeightPower = 1, L2 = 1 });

        plain.PredictProbabilities([3f])[1].Should().BeApproximately(0.1f, 0.02f);
        balanced.PredictProbabilities([3f])[1].Should().BeApproximately(0.5f, 0.02f);
    }

    [Fact]
    public void Fit_SameData_IsDeterministic()
    {
        var (x, y) = Blobs(10, 2);

        var a = SoftmaxRegression.Fit(x, y, 3);
        var b = SoftmaxRegression.Fit(x, y, 3);

        a.Weights.SelectMany(w => w).Should().Equal(b.Weights.SelectMany(w => w));
    }

    [Fact]
    public void Fit_LabelOutOfRange_Throws()
    {
        var act = () => SoftmaxRegression.Fit([[1f], [2f]], [0, 2], 2);

        act.Should().Throw<ArgumentException>();
    }
}
