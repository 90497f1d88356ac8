namespace FacialKeypoints.Cli.Tests;

[Collection("console")] // the reporters write to Console.Error
public sealed class ProgressTests
{
    private static string Capture(Action<TextWriter> run)
    {
        var errors = new StringWriter();
        var previous = Console.Error;
        Console.SetError(errors);
        try
        {
            run(errors);
            return errors.ToString();
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    [Fact]
    public void Plain_RedirectedOutput_PrintsALineEveryTenthWithRateAndTimeLeftThenTheSummary()
    {
        string text = Capture(_ =>
        {
            using var progress = new PlainProgress(quiet: false);
            progress.Start("predict", 20);
            for (int i = 0; i < 20; i++)
            {
                progress.Advance();
            }

            progress.Finish("20 image(s), 20 face(s)");
        });

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(11).And.Contain(l => l.StartsWith("predict: 2/20 (10%), ", StringComparison.Ordinal) && l.EndsWith(" left", StringComparison.Ordinal));
        lines[^2].Should().StartWith("predict: 20/20 (100%)");
        lines[^1].Should().Be("predict: 20 image(s), 20 face(s)");
    }

    [Fact]
    public void Quiet_PrintsNotesAndTheSummaryOnly()
    {
        string text = Capture(_ =>
        {
            using var progress = ConsoleProgress.Create(quiet: true);
            progress.Start("evaluate", 5);
            progress.Advance(3);
            progress.Note("fkp: a.jpg: no face found");
            progress.Advance(2);
            progress.Finish("5 image(s)");
        });

        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("fkp: a.jpg: no face found", "evaluate: 5 image(s)");
    }

    [Fact]
    public void Create_StandardErrorRedirected_PicksPlainLines()
    {
        // Under the test host standard error is not a terminal, as in a CI log.
        using var progress = ConsoleProgress.Create(quiet: false);
        progress.Should().BeOfType<PlainProgress>();
    }
}
