using FacialKeypoints.Data;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Emotion.Tests;

public class AveragedExpressionClassifierTests
{
    /// <summary>Answers fixed probabilities (neutral, positive, negative) and records whether it was disposed.</summary>
    private sealed class Fixed(float neutral, float positive, float negative) : IExpressionClassifier, IDisposable
    {
        public bool Disposed { get; private set; }

        public string Name => "fixed";

        public ExpressionPrediction Classify(ExpressionInput input) => ExpressionPrediction.FromProbabilities([neutral, positive, negative]);

        public IReadOnlyList<ExpressionPrediction> ClassifyBatch(IReadOnlyList<ExpressionInput> inputs) => [.. inputs.Select(Classify)];

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void ClassifyBatch_TwoParts_WeighsTheirProbabilitiesAndTakesTheMostProbable()
    {
        var leaning = new Fixed(0.2f, 0.8f, 0f);
        var sure = new Fixed(0.9f, 0.1f, 0f);
        using var average = new AveragedExpressionClassifier([(leaning, 2), (sure, 1)]);

        var predictions = average.ClassifyBatch([new ExpressionInput(TestFaces.Frontal()), new ExpressionInput(TestFaces.Frontal())]);

        predictions.Should().HaveCount(2);
        predictions[0].Probabilities[ExpressionLabel.Positive].Should().BeApproximately((2 * 0.8f / 3) + (0.1f / 3), 1e-6f);
        predictions[0].Probabilities[ExpressionLabel.Neutral].Should().BeApproximately((2 * 0.2f / 3) + (0.9f / 3), 1e-6f);
        predictions[0].Label.Should().Be(ExpressionLabel.Positive);
        average.Name.Should().Be("combined");
    }

    [Fact]
    public void Dispose_DisposesTheParts()
    {
        var a = new Fixed(1, 0, 0);
        var b = new Fixed(0, 1, 0);

        new AveragedExpressionClassifier([(a, 1), (b, 1)]).Dispose();

        a.Disposed.Should().BeTrue();
        b.Disposed.Should().BeTrue();
    }

    [Theory]
    [InlineData(-1.0, 1.0)]
    [InlineData(0.0, 0.0)]
    [InlineData(double.NaN, 1.0)]
    public void Constructor_BadWeights_Throws(double first, double second)
    {
        var act = () => new AveragedExpressionClassifier([(new Fixed(1, 0, 0), first), (new Fixed(0, 1, 0), second)]);

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Factory_Combined_OnRealFacesGivesProbabilitiesSummingToOneFromBothParts()
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        var inputs = Enumerable.Range(0, 3).Select(i => dataset.Load(i)).Select(s => new ExpressionInput(s.Keypoints, s.Image)).ToList();
        using var classifier = (AveragedExpressionClassifier)ExpressionClassifierFactory.Create(
            new ExpressionClassifierOptions { Classifier = ExpressionClassifierKind.Combined });

        var predictions = classifier.ClassifyBatch(inputs);
        var network = classifier.Parts[0].Classifier.ClassifyBatch(inputs);
        var linear = classifier.Parts[1].Classifier.ClassifyBatch(inputs);

        for (int i = 0; i < 3; i++)
        {
            predictions[i].Probabilities.Values.Sum().Should().BeApproximately(1f, 1e-4f);
            float expected = (2 * network[i].Probabilities[ExpressionLabel.Positive] / 3) + (linear[i].Probabilities[ExpressionLabel.Positive] / 3);
            predictions[i].Probabilities[ExpressionLabel.Positive].Should().BeApproximately(expected, 1e-5f);
        }
    }
}
