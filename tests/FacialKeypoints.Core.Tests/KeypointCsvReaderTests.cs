using System.Globalization;

namespace FacialKeypoints.Core.Tests;

public sealed class KeypointCsvReaderTests
{
    private static readonly LandmarkScheme Scheme = LandmarkScheme.Ibug68;
    private static readonly string Header = "," + string.Join(",", Enumerable.Range(0, 136));

    private static string Row(string name, float value = 45.0f, int fields = 136) =>
        name + "," + string.Join(",", Enumerable.Repeat(value.ToString("0.0", CultureInfo.InvariantCulture), fields));

    private static KeypointCsvResult Read(string text, BadRowPolicy policy = BadRowPolicy.FailFast) =>
        KeypointCsvReader.Read(new StringReader(text), "points.csv", Scheme, policy);

    [Fact]
    public void Read_ValidRows_ParsesNamesValuesAndLines()
    {
        var result = Read($"{Header}\n{Row("Ed_Smart_51.jpg", 12.5f)}\n{Row("b_01.jpg", -23f)}\n");
        result.Records.Should().HaveCount(2);
        result.Records[0].Name.Should().Be("Ed_Smart_51.jpg");
        result.Records[0].Keypoints.Should().HaveCount(136).And.OnlyContain(v => v == 12.5f);
        result.Records[0].Line.Should().Be(2);
        result.Records[1].Line.Should().Be(3);
        result.Problems.Should().BeEmpty();
    }

    [Fact]
    public void Read_KeypointsOutsideImage_AreKept() =>
        Read($"{Header}\n{Row("edge_01.jpg", -23f)}\n").Records[0].Keypoints[0].Should().Be(-23f);

    [Fact]
    public void Read_IgnoresCurrentCulture()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Read($"{Header}\n{Row("a_01.jpg", 1.5f)}\n").Records[0].Keypoints[0].Should().Be(1.5f);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Read_TooFewFields_NamesFileLineAndProblem()
    {
        var act = () => Read($"{Header}\n{Row("a_01.jpg")}\n{Row("b_01.jpg", fields: 135)}\n");
        act.Should().Throw<KeypointCsvException>().WithMessage("points.csv:3: has 136 fields; expected 137*")
            .Which.Problem!.Line.Should().Be(3);
    }

    [Theory]
    [InlineData("abc", "is not a number")]
    [InlineData("NaN", "is not finite")]
    [InlineData("Infinity", "is not finite")]
    public void Read_BadNumber_NamesFieldAndLine(string value, string problem)
    {
        string row = "a_01.jpg," + value + "," + string.Join(",", Enumerable.Repeat("1.0", 135));
        FluentActions.Invoking(() => Read($"{Header}\n{row}\n")).Should().Throw<KeypointCsvException>()
            .WithMessage($"points.csv:2: field 1 ('{value}') {problem}");
    }

    [Fact]
    public void Read_EmptyName_Throws() =>
        FluentActions.Invoking(() => Read($"{Header}\n{Row("")}\n")).Should().Throw<KeypointCsvException>().WithMessage("*empty image name*");

    [Fact]
    public void Read_SkipAndReport_KeepsGoodRowsAndListsBadOnes()
    {
        var result = Read($"{Header}\n{Row("a_01.jpg")}\n{Row("b_01.jpg", fields: 10)}\n{Row("c_01.jpg")}\n", BadRowPolicy.SkipAndReport);
        result.Records.Select(r => r.Name).Should().Equal("a_01.jpg", "c_01.jpg");
        result.Problems.Should().ContainSingle().Which.Should().Be(new CsvProblem("points.csv", 3, "has 11 fields; expected 137"));
    }

    [Fact]
    public void Read_EmptyFile_Throws() =>
        FluentActions.Invoking(() => Read(string.Empty)).Should().Throw<KeypointCsvException>().WithMessage("points.csv:1: the file is empty*");

    [Fact]
    public void Read_WrongHeader_Throws() =>
        FluentActions.Invoking(() => Read("name,x,y\n")).Should().Throw<KeypointCsvException>().WithMessage("points.csv:1: the header has 3 fields; expected 137*");

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound() =>
        FluentActions.Invoking(() => KeypointCsvReader.Read("/no/such/file.csv", Scheme)).Should().Throw<FileNotFoundException>().WithMessage("*'/no/such/file.csv'*");
}
