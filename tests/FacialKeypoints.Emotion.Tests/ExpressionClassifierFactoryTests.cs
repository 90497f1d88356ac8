using FacialKeypoints.Data;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Emotion.Tests;

/// <summary>
/// The default classifier runs on the package alone: ML.NET's ResNet18.onnx (62 MB) is not one of its dependencies
/// (issue 11), so only the classifiers that read ImageNet features need it, and they say so when it is missing.
/// </summary>
public class ExpressionClassifierFactoryTests
{
    /// <summary>A ResNet18.onnx path that does not exist: any attempt to read ImageNet weights fails on it.</summary>
    private static readonly string MissingOnnx = Path.Combine(Path.GetTempPath(), $"fkp-no-resnet18-{Guid.NewGuid():N}", "ResNet18.onnx");

    private static List<ExpressionInput> RealFaces(int count)
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        return [.. Enumerable.Range(0, count).Select(i => dataset.Load(i)).Select(s => new ExpressionInput(s.Keypoints, s.Image))];
    }

    [Fact]
    public void Create_Default_IsTheNetworkClassifier()
    {
        new ExpressionClassifierOptions().Classifier.Should().Be(ExpressionClassifierKind.Network);

        using var classifier = (IDisposable)ExpressionClassifierFactory.Create();

        classifier.Should().BeOfType<NetworkExpressionClassifier>().Which.Name.Should().Be("network");
    }

    [Fact]
    public void Create_DefaultWithNoResNet18Onnx_ClassifiesRealFaces()
    {
        var inputs = RealFaces(3);
        using var classifier = (IDisposable)ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Learned = { OnnxPath = MissingOnnx } });

        var predictions = ((IExpressionClassifier)classifier).ClassifyBatch(inputs);

        predictions.Should().HaveCount(3);
        predictions.Should().AllSatisfy(p => p.Probabilities.Values.Sum().Should().BeApproximately(1f, 1e-4f));
        File.Exists(MissingOnnx).Should().BeFalse();
    }

    [Theory]
    [InlineData(ExpressionClassifierKind.Combined)]
    [InlineData(ExpressionClassifierKind.Learned)]
    public void Classify_ImageNetClassifierWithNoResNet18Onnx_ThrowsSayingWhatToReferenceOrSet(ExpressionClassifierKind kind)
    {
        var inputs = RealFaces(1);
        using var classifier = (IDisposable)ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = kind, Learned = { OnnxPath = MissingOnnx } });

        var act = () => ((IExpressionClassifier)classifier).ClassifyBatch(inputs);

        act.Should().Throw<FileNotFoundException>()
            .WithMessage("*ResNet18.onnx*")
            .WithMessage("*LearnedExpressionOptions.OnnxPath*")
            .WithMessage("*Microsoft.ML.DnnImageFeaturizer.ResNet18*")
            .WithMessage($"*{MissingOnnx}*");
    }
}
