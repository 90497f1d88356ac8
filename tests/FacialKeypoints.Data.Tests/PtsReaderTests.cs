using System.Globalization;
using System.Text;

namespace FacialKeypoints.Data.Tests;

public sealed class PtsReaderTests
{
    private static readonly LandmarkScheme Scheme = LandmarkScheme.Ibug68;

    /// <summary>An iBUG file of 68 points, point k at (k + 1, 2k + 1.5) in the file's 1-based coordinates.</summary>
    internal static string PtsText(string newline = "\n", bool comments = false, int points = 68, Func<int, (float X, float Y)>? point = null)
    {
        point ??= k => (k + 1, (2 * k) + 1.5f);
        var text = new StringBuilder();
        if (comments)
        {
            text.Append("# written by a labelling tool").Append(newline).Append(newline);
        }

        text.Append("version: 1").Append(newline).Append("n_points:  68").Append(newline).Append('{').Append(newline);
        for (int k = 0; k < points; k++)
        {
            var (x, y) = point(k);
            text.Append(CultureInfo.InvariantCulture, $"{x:R} {y:R}");
            text.Append(comments && k == 30 ? "   // nose tip" : string.Empty).Append(newline);
            if (comments && k == 10)
            {
                text.Append(newline);
            }
        }

        return text.Append('}').ToString();
    }

    private static KeypointRecord Read(string text) => PtsReader.Read(new StringReader(text), "face.pts", Scheme, "face.jpg");

    [Theory]
    [InlineData("\n", false)]
    [InlineData("\r\n", true)]
    public void Read_OneBasedFile_GivesZeroBasedPixelCentres(string newline, bool comments)
    {
        var record = Read(PtsText(newline, comments));
        record.Name.Should().Be("face.jpg");
        record.Keypoints.Should().HaveCount(136);
        for (int k = 0; k < 68; k++)
        {
            record.Keypoints[2 * k].Should().Be(k);
            record.Keypoints[(2 * k) + 1].Should().Be((2 * k) + 0.5f);
        }
    }

    [Fact]
    public void Read_BareLinesWithoutHeader_ReadsPoints()
    {
        string bare = string.Join("\n", Enumerable.Range(0, 68).Select(k => $"{k + 1} 1"));
        Read(bare).Keypoints[2 * 67].Should().Be(67);
    }

    public static TheoryData<string, int, string> Malformed => new()
    {
        { PtsText().Replace("n_points:  68", "n_points: 5", StringComparison.Ordinal), 2, "n_points is 5*" },
        { PtsText().Replace("\n12 ", "\n12 x", StringComparison.Ordinal), 15, "*'x*' in point 12 is not a finite number" },
        { PtsText().Replace("\n3 5.5\n", "\n3\n", StringComparison.Ordinal), 6, "point line '3' has 1 fields*" },
        { PtsText(points: 67), 71, "has 67 points; expected 68" },
        { PtsText(points: 69), 72, "more than the 68 points expected" },
        { PtsText()[..^1], 71, "the point block has no closing '}'" },
        { PtsText() + "\n1 2", 73, "unexpected text after the closing '}'*" },
        { "version: 1\nn_points: 68\n1 2", 2, "the header is not followed by '{'" },
        { "width: 3\n{", 1, "unexpected header line 'width: 3'*" },
        { "# only a comment\n", 1, "the file holds no landmarks" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Read_MalformedFile_NamesFileAndLine(string text, int line, string problem)
    {
        var thrown = FluentActions.Invoking(() => Read(text)).Should().Throw<KeypointCsvException>().Which;
        thrown.Problem!.File.Should().Be("face.pts");
        thrown.Problem.Line.Should().Be(line);
        thrown.Problem.Problem.Should().Match(problem);
    }
}
