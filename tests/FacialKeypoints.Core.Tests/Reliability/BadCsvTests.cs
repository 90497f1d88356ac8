using System.Globalization;
using System.Text;

namespace FacialKeypoints.Core.Tests.Reliability;

/// <summary>
/// The CSV half of the bad-input catalogue (docs/reliability.md): every file gives the right rows or a
/// <see cref="KeypointCsvException"/> naming the file and line; under SkipAndReport a bad row never stops the read.
/// </summary>
public sealed class BadCsvTests
{
    private static readonly LandmarkScheme Scheme = LandmarkScheme.Ibug68;
    private static readonly string Header = "," + string.Join(",", Enumerable.Range(0, 136));

    private static string Row(string name, float value = 45.5f, int fields = 136) =>
        name + "," + string.Join(",", Enumerable.Repeat(value.ToString(CultureInfo.InvariantCulture), fields));

    private static KeypointCsvResult Read(string text, BadRowPolicy policy = BadRowPolicy.FailFast) =>
        KeypointCsvReader.Read(new StringReader(text), "points.csv", Scheme, policy);

    public static TheoryData<string, int, string> BadRows => new()
    {
        { Row("a.jpg", fields: 135), 2, "has 136 fields; expected 137" },
        { Row("a.jpg", fields: 137), 2, "has 138 fields; expected 137" },
        { Row("a.jpg") + ",,,", 2, "has 140 fields" },
        { "a.jpg", 2, "has 1 fields" },
        { Row("a.jpg").Replace(",45.5,", ",4x5,", StringComparison.Ordinal), 2, "is not a number" },
        { Row("a.jpg").Replace(",45.5,", ",45,5,", StringComparison.Ordinal), 2, "fields" },
        { Row("a.jpg").Replace(",45.5,", ",NaN,", StringComparison.Ordinal), 2, "is not finite" },
        { Row("a.jpg").Replace(",45.5,", ",-Infinity,", StringComparison.Ordinal), 2, "is not finite" },
        { Row("a.jpg").Replace(",45.5,", ",1e39,", StringComparison.Ordinal), 2, "is not finite" },
        { Row("a.jpg").Replace(",45.5,", ",,", StringComparison.Ordinal), 2, "is not a number" },
        { Row(string.Empty), 2, "empty image name" },
        { Row("   "), 2, "empty image name" },
    };

    [Theory]
    [MemberData(nameof(BadRows))]
    public void Read_BadRow_FailFastNamesFileAndLine_SkipKeepsTheGoodRows(string bad, int line, string problem)
    {
        string text = $"{Header}\n{bad}\n{Row("good.jpg")}\n";

        FluentActions.Invoking(() => Read(text)).Should().Throw<KeypointCsvException>()
            .Where(e => e.Problem!.File == "points.csv" && e.Problem.Line == line).WithMessage($"points.csv:{line}: *{problem}*");
        var skipped = Read(text, BadRowPolicy.SkipAndReport);
        skipped.Records.Select(r => (r.Name, r.Line)).Should().Equal(("good.jpg", 3));
        skipped.Problems.Should().ContainSingle().Which.Line.Should().Be(line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\uFEFF")]
    public void Read_EmptyFile_NamedError(string text) =>
        FluentActions.Invoking(() => Read(text)).Should().Throw<KeypointCsvException>().WithMessage("points.csv:1: *");

    [Fact]
    public void Read_HeaderOnly_GivesNoRows() => Read(Header + "\n").Records.Should().BeEmpty();

    [Fact]
    public void Read_Utf8BomAndCrlfFromDisk_ReadsRowsWithTheirLines()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fkp-bom-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, $"{Header}\r\n{Row("a.jpg")}\r\n{Row("b.jpg", 7)}\r\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        try
        {
            var result = KeypointCsvReader.Read(path, Scheme);
            result.Records.Select(r => (r.Name, r.Line, r.Keypoints[^1])).Should().Equal(("a.jpg", 2, 45.5f), ("b.jpg", 3, 7f));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_QuotedNamesWithCommasQuotesAndNewlines_KeepTheName()
    {
        string text = $"{Header}\n{Row("\"a, b.jpg\"")}\n{Row("\"say \"\"hi\"\".jpg\"")}\n{Row("\"two\nlines.jpg\"")}\n{Row("c.jpg")}\n";

        var result = Read(text);

        // A record spanning two lines carries the line it ends on.
        result.Records.Select(r => (r.Name, r.Line)).Should().Equal(("a, b.jpg", 2), ("say \"hi\".jpg", 3), ("two\nlines.jpg", 5), ("c.jpg", 6));
    }

    [Fact]
    public void Read_UnterminatedQuote_SwallowsTheRestAsOneBadRow()
    {
        // The open quote runs to the end of the file: one row of one field, reported at the last line.
        string text = $"{Header}\n{Row("\"open.jpg")}\n{Row("b.jpg")}\n";
        FluentActions.Invoking(() => Read(text)).Should().Throw<KeypointCsvException>().WithMessage("points.csv:4: has 1 fields*");
    }

    [Fact]
    public void Read_DuplicateNames_KeepsBothRowsInFileOrder()
    {
        // Duplicates are not an error for the reader: two labelings of one image are data, the dataset decides.
        var result = Read($"{Header}\n{Row("a.jpg", 1)}\n{Row("a.jpg", 2)}\n");
        result.Records.Select(r => (r.Name, r.Line, r.Keypoints[0])).Should().Equal(("a.jpg", 2, 1f), ("a.jpg", 3, 2f));
    }

    [Fact]
    public void Read_OneGigabyteLineStreamed_StopsAtTheBoundWithoutReadingIt()
    {
        // A 1 GiB line after the header, generated as it is read: the reader must stop after MaxLineLength.
        var endless = new GeneratedText(Header + "\n" + "big.jpg,", 'x', 1L << 30);
        long before = GC.GetTotalAllocatedBytes(precise: true);

        FluentActions.Invoking(() => KeypointCsvReader.Read(endless, "huge.csv", Scheme, BadRowPolicy.SkipAndReport)).Should().Throw<KeypointCsvException>()
            .WithMessage($"huge.csv:2: the line is longer than {KeypointCsvReader.MaxLineLength} characters*");

        endless.Served.Should().BeLessThan(4L * KeypointCsvReader.MaxLineLength);
        (GC.GetTotalAllocatedBytes(precise: true) - before).Should().BeLessThan(256L << 20);
    }

    [Fact]
    public void Read_OneGigabyteSparseFileOfZeros_StopsAtTheBound()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fkp-huge-{Guid.NewGuid():N}.csv");
        using (var file = new FileStream(path, FileMode.CreateNew))
        {
            file.Write(Encoding.UTF8.GetBytes(Header + "\nhuge.jpg,"));
            file.SetLength(1L << 30);
        }

        try
        {
            FluentActions.Invoking(() => KeypointCsvReader.Read(path, Scheme)).Should().Throw<KeypointCsvException>()
                .WithMessage($"{path}:2: the line is longer than*");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_LongLineJustUnderTheBound_IsAnOrdinaryBadRow()
    {
        string longName = new('n', KeypointCsvReader.MaxLineLength - 2000);
        var result = Read($"{Header}\n{Row(longName)}\n{Row("b.jpg", fields: 3)}\n", BadRowPolicy.SkipAndReport);
        result.Records.Should().ContainSingle().Which.Name.Should().HaveLength(longName.Length);
        result.Problems.Should().ContainSingle().Which.Line.Should().Be(3);
    }

    /// <summary>A prefix, then <paramref name="length"/> copies of one character, made on demand.</summary>
    private sealed class GeneratedText(string prefix, char fill, long length) : TextReader
    {
        private int prefixAt;

        public long Served { get; private set; }

        public override int Peek() => prefixAt < prefix.Length ? prefix[prefixAt] : Served < length ? fill : -1;

        public override int Read()
        {
            int c = Peek();
            if (c >= 0 && prefixAt < prefix.Length)
            {
                prefixAt++;
            }
            else if (c >= 0)
            {
                Served++;
            }

            return c;
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            int n = 0;
            while (n < buffer.Length && prefixAt < prefix.Length)
            {
                buffer[n++] = prefix[prefixAt++];
            }

            int fillCount = (int)Math.Min(buffer.Length - n, length - Served);
            buffer.Slice(n, fillCount).Fill(fill);
            Served += fillCount;
            return n + fillCount;
        }
    }
}
