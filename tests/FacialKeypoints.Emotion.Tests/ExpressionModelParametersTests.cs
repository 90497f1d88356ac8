using FacialKeypoints.Emotion.Fitting;

namespace FacialKeypoints.Emotion.Tests;

public class ExpressionModelParametersTests
{
    private static ExpressionModelParameters GeometryOnly()
    {
        var faces = Enumerable.Range(0, 12).Select(i => TestFaces.Transform(TestFaces.Frontal(), 1 + (0.05f * i), 0.01f * i, i, -i)).ToList();
        var x = faces.Select(f => GeometryFeatures.Compute(f)).ToList();
        for (int i = 0; i < x.Count; i++)
        {
            x[i][^1] += i % 2;
        }

        var y = Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? ExpressionLabel.Neutral : ExpressionLabel.Positive).ToList();
        return ExpressionModelFitter.Fit(x, y, new ExpressionFitOptions { UseAppearance = false });
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
