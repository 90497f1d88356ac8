using FacialKeypoints.Data;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Emotion.Tests;

public class LearnedExpressionClassifierTests
{
    [Fact]
    public void ClassifyBatch_ShippedParametersOnRealFaces_GiveProbabilitiesAndMatchPrecomputedFeatures()
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        var inputs = Enumerable.Range(0, 3).Select(i => dataset.Load(i)).Select(s => new ExpressionInput(s.Keypoints, s.Image)).ToList();
        using var classifier = new LearnedExpressionClassifier();

        var predictions = classifier.ClassifyBatch(inputs);
        var features = classifier.ComputeFeatures(inputs);

        predictions.Should().HaveCount(3);
        for (int i = 0; i < 3; i++)
        {
            predictions[i].Probabilities.Values.Sum().Should().BeApproximately(1f, 1e-4f);
            classifier.Predict(features[i]).Label.Should().Be(predictions[i].Label);
        }
    }

    [Fact]
    public void Classify_NoImageNoFeatures_ThrowsSayingWhatIsNeeded()
    {
        using var classifier = new LearnedExpressionClassifier();

        var act = () => classifier.Classify(new ExpressionInput(TestFaces.Frontal()));

        act.Should().Throw<ArgumentException>().WithMessage("*image*");
    }
}
