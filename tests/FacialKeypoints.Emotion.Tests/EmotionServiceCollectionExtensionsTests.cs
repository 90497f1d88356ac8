using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FacialKeypoints.Emotion.Tests;

public class EmotionServiceCollectionExtensionsTests
{
    [Fact]
    public void AddFacialKeypointsEmotion_RuleFromConfiguration_ResolvesTheRule()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Classifier"] = "Rule", ["Rule:PositiveMinWidth"] = "0.65" })
            .Build();
        using var provider = new ServiceCollection().AddFacialKeypointsEmotion(configuration).AddFacialKeypointsEmotion().BuildServiceProvider();

        var classifier = provider.GetRequiredService<IExpressionClassifier>();

        classifier.Should().BeOfType<HeuristicExpressionClassifier>();
        provider.GetRequiredService<IOptions<ExpressionClassifierOptions>>().Value.Rule.PositiveMinWidth.Should().Be(0.65);
    }

    [Fact]
    public void AddFacialKeypointsEmotion_Default_ResolvesTheShippedNetworks()
    {
        using var provider = new ServiceCollection().AddFacialKeypointsEmotion().BuildServiceProvider();

        var classifier = provider.GetRequiredService<IExpressionClassifier>();

        var model = classifier.Should().BeOfType<NetworkExpressionClassifier>().Which.Model;
        model.Members.Should().HaveCount(2);
        model.Spec.Classes.Should().Equal(ExpressionLabel.Neutral, ExpressionLabel.Positive);
    }

    [Fact]
    public void AddFacialKeypointsEmotion_CombinedFromConfiguration_ResolvesTheShippedNetworksAndLinearModelAveraged()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Classifier"] = "Combined" }).Build();
        using var provider = new ServiceCollection().AddFacialKeypointsEmotion(configuration).BuildServiceProvider();

        var classifier = provider.GetRequiredService<IExpressionClassifier>();

        var parts = classifier.Should().BeOfType<AveragedExpressionClassifier>().Which.Parts;
        parts.Should().HaveCount(2);
        var model = parts[0].Classifier.Should().BeOfType<NetworkExpressionClassifier>().Which.Model;
        model.Members.Should().HaveCount(2);
        model.Spec.Classes.Should().Equal(ExpressionLabel.Neutral, ExpressionLabel.Positive);
        parts[0].Weight.Should().BeApproximately(2f / 3, 1e-6f);
        parts[1].Classifier.Should().BeOfType<LearnedExpressionClassifier>().Which.Parameters.Appearance.Should().NotBeNull();
    }

    [Fact]
    public void AddFacialKeypointsEmotion_LearnedFromConfiguration_ResolvesTheLinearModelWithShippedParameters()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Classifier"] = "Learned" }).Build();
        using var provider = new ServiceCollection().AddFacialKeypointsEmotion(configuration).BuildServiceProvider();

        var classifier = provider.GetRequiredService<IExpressionClassifier>();

        classifier.Should().BeOfType<LearnedExpressionClassifier>().Which.Parameters.Appearance.Should().NotBeNull();
    }

    [Fact]
    public void AddFacialKeypointsEmotion_InvalidNestedOption_FailsValidation()
    {
        using var provider = new ServiceCollection()
            .AddFacialKeypointsEmotion(configure: o => o.Rule.ReferenceSize = 0)
            .BuildServiceProvider();

        var act = () => provider.GetRequiredService<IOptions<ExpressionClassifierOptions>>().Value;

        act.Should().Throw<OptionsValidationException>();
    }

    [Fact]
    public void AddFacialKeypointsEmotion_InvalidOption_FailsAtStart()
    {
        using var provider = new ServiceCollection()
            .AddFacialKeypointsEmotion(configure: o => o.Learned.BatchSize = 0)
            .BuildServiceProvider();

        var act = () => provider.GetRequiredService<IStartupValidator>().Validate();

        act.Should().Throw<OptionsValidationException>();
    }

    [Fact]
    public void Factory_Rule_CreatesTheRule()
    {
        ExpressionClassifierFactory.Create(new ExpressionClassifierOptions { Classifier = ExpressionClassifierKind.Rule })
            .Name.Should().Be("rule");
    }
}
