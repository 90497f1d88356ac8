namespace FacialKeypoints.EmotionFit.Tests;

/// <summary>
/// Evaluation settings that only mean something together are refused before anything is loaded: exit 2 and one
/// line saying what is missing.
/// </summary>
public sealed class ExpressionEvaluationGuardTests
{
    [Theory]
    [InlineData("residual", "--residual-hidden is a --refit-grid experiment")]
    [InlineData("refit", "give --finetune-steps too")]
    [InlineData("taiwanese", "give --finetune-steps too")]
    public void Run_IncompleteSettings_ExitsTwoSayingWhatIsMissing(string setting, string expected)
    {
        var settings = setting switch
        {
            "residual" => new EmotionFitSettings { ResidualHidden = 32 },
            "refit" => new EmotionFitSettings { FinetuneRefit = true },
            _ => new EmotionFitSettings { FinetuneTaiwanese = 16 },
        };
        var lines = new List<string>();

        int code = ExpressionEvaluation.Run(settings, [], null!, [], "runs/none", lines.Add);

        code.Should().Be(2);
        lines.Should().ContainSingle().Which.Should().Contain(expected);
    }
}
