namespace FacialKeypoints.Emotion.Tests;

public class ExpressionModelParametersTests
{
    // Parameters written by hand (the fitter lives in the EmotionFit sample): geometry features only, two classes.
    private static ExpressionModelParameters GeometryOnly()
    {
        int d = GeometryFeatures.Count;
        var random = new Random(3);
        float[] Row() => [.. Enumerable.Range(0, d).Select(_ => (float)random.NextDouble() - 0.5f)];
        return new ExpressionModelParameters
        {
            GeometryVersion = GeometryFeatures.Version,
            Classes = ["neutral", "positive"],
            Means = Row(),
            Scales = [.. Enumerable.Repeat(1f, d)],
            Weights = [Row(), Row()],
            Biases = [0.1f, -0.1f],
        };
    }

    [Fact]
    public void SaveLoad_RoundTrip_KeepsEveryValue()
    {
        var parameters = GeometryOnly();
        using var stream = new MemoryStream();

        parameters.Save(stream);
        stream.Position = 0;
        var loaded = ExpressionModelParameters.Load(stream, "memory");

        loaded.Classes.Should().Equal("neutral", "positive");
        loaded.GeometryVersion.Should().Be(GeometryFeatures.Version);
        loaded.Appearance.Should().BeNull();
        loaded.Means.Should().Equal(parameters.Means);
        loaded.Weights.SelectMany(w => w).Should().Equal(parameters.Weights.SelectMany(w => w));
    }

    [Fact]
    public void Load_WrongFeatureCount_ThrowsFormatException()
    {
        var parameters = GeometryOnly();
        parameters.Means = parameters.Means[..^1];
        using var stream = new MemoryStream();
        System.Text.Json.JsonSerializer.Serialize(stream, parameters, new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase });
        stream.Position = 0;

        var act = () => ExpressionModelParameters.Load(stream, "broken.json");

        act.Should().Throw<FormatException>().WithMessage("*broken.json*means*");
    }

    [Fact]
    public void Load_NotJson_ThrowsFormatException()
    {
        using var stream = new MemoryStream("not json"u8.ToArray());

        var act = () => ExpressionModelParameters.Load(stream, "bad.json");

        act.Should().Throw<FormatException>();
    }

    [Fact]
    public void LoadEmbedded_ShippedParameters_AreValidAndUseGeometryAndAppearance()
    {
        var parameters = ExpressionModelParameters.LoadEmbedded();

        parameters.GeometryVersion.Should().Be(GeometryFeatures.Version);
        parameters.Appearance.Should().NotBeNull();
        parameters.ClassLabels.Should().Contain([ExpressionLabel.Neutral, ExpressionLabel.Positive]);
        parameters.FeatureCount.Should().Be(parameters.ExpectedFeatureCount());
        parameters.Metadata.Should().ContainKey("cv");
    }

    [Fact]
    public void LearnedClassifier_GeometryOnlyParameters_NeedNoImage()
    {
        using var classifier = new LearnedExpressionClassifier(GeometryOnly());

        var prediction = classifier.Classify(new ExpressionInput(TestFaces.Frontal()));

        prediction.Probabilities.Values.Sum().Should().BeApproximately(1f, 1e-4f);
        prediction.Probabilities[ExpressionLabel.Negative].Should().Be(0);
        classifier.UsesAppearance.Should().BeFalse();
    }
}
