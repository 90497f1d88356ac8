namespace FacialKeypoints.EmotionFit.Tests;

public class ExpressionLabelCsvTests
{
    [Fact]
    public void Read_ValidText_ParsesLabelsAndUnclear()
    {
        var rows = ExpressionLabelCsv.Read(new StringReader("name,label\na_01.jpg,positive\nb_02.jpg,Neutral\nc_03.jpg,unclear\nd_04.jpg,negative\n"), "test");

        rows.Select(r => r.Label).Should().Equal(ExpressionLabel.Positive, ExpressionLabel.Neutral, null, ExpressionLabel.Negative);
        rows[0].Name.Should().Be("a_01.jpg");
        rows[3].Line.Should().Be(5);
    }

    [Theory]
    [InlineData("file,label\na.jpg,positive\n", "header")]
    [InlineData("name,label\na.jpg,happy\n", "happy")]
    [InlineData("name,label\na.jpg,positive,extra\n", "name,label")]
    [InlineData("name,label\na.jpg,positive\na.jpg,neutral\n", "twice")]
    public void Read_BadText_ThrowsNamingTheProblem(string text, string expected)
    {
        var act = () => ExpressionLabelCsv.Read(new StringReader(text), "test.csv");

        act.Should().Throw<FormatException>().WithMessage($"*{expected}*");
    }

    [Fact]
    public void Labels_NameRoundTrip_IsIdentity()
    {
        foreach (var label in ExpressionLabels.All)
        {
            ExpressionLabels.Parse(label.ToName()).Should().Be(label);
        }
    }
}
