namespace FacialKeypoints.Core.Tests;

public sealed class KeypointCsvWriterTests
{
    private static readonly LandmarkScheme Scheme = LandmarkScheme.Ibug68;

    [Fact]
    public void WriteRow_NamesWithCommasAndQuotes_ReadBackWithTheirPoints()
    {
        var text = new StringWriter();
        var points = Enumerable.Range(0, Scheme.ValueCount).Select(i => (i * 1.25f) - 3f).ToArray();
        using (var writer = new KeypointCsvWriter(text, Scheme, ["expression", "score"], leaveOpen: true))
        {
            writer.WriteRow("a, \"quoted\" name.jpg", points, ["positive", "0.9"]);
            writer.WriteRow("plain.jpg", points, ["neutral", "0.5"]);
        }

        var result = KeypointCsvReader.Read(new StringReader(text.ToString()), "round-trip.csv", Scheme);

        result.Records.Select(r => r.Name).Should().Equal("a, \"quoted\" name.jpg", "plain.jpg");
        result.Records[0].Keypoints.Should().Equal(points);
        result.Records[1].Line.Should().Be(3);
    }

    [Fact]
    public void Header_IsNameThenXyPairsThenExtras()
    {
        var text = new StringWriter();
        using (new KeypointCsvWriter(text, Scheme, ["face"], leaveOpen: true))
        {
        }

        var header = text.ToString().TrimEnd().Split(',');
        header.Should().HaveCount(1 + Scheme.ValueCount + 1);
        header[..3].Should().Equal("name", "x0", "y0");
        header[^2..].Should().Equal("y67", "face");
    }

    [Fact]
    public void WriteRow_WrongCounts_Throws()
    {
        using var writer = new KeypointCsvWriter(new StringWriter(), Scheme, ["face"]);
        FluentActions.Invoking(() => writer.WriteRow("x.jpg", new float[4], ["0"])).Should().Throw<ArgumentException>().WithMessage("Expected 136 coordinates*");
        FluentActions.Invoking(() => writer.WriteRow("x.jpg", new float[136], [])).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Read_RowShorterThanAWiderHeader_NamesTheLine()
    {
        var text = new StringWriter();
        using (var writer = new KeypointCsvWriter(text, Scheme, ["face"], leaveOpen: true))
        {
            writer.WriteRow("ok.jpg", new float[136], ["0"]);
        }

        string broken = text + "short.jpg," + string.Join(",", new string[136].Select(_ => "1")) + "\n";
        FluentActions.Invoking(() => KeypointCsvReader.Read(new StringReader(broken), "p.csv", Scheme))
            .Should().Throw<KeypointCsvException>().WithMessage("p.csv:3: has 137 fields; expected 138*");
    }
}
