using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace FacialKeypoints.Core;

/// <summary>What to do with a row that fails validation.</summary>
public enum BadRowPolicy
{
    /// <summary>Throw <see cref="KeypointCsvException"/> at the first bad row.</summary>
    FailFast,

    /// <summary>Leave the row out and report it in <see cref="KeypointCsvResult.Problems"/>.</summary>
    SkipAndReport,
}

/// <summary>One labelled image: its file name and flat keypoints (x0, y0, x1, y1, ...) in the image's pixels.</summary>
/// <param name="Name">The image file name, as written in the CSV.</param>
/// <param name="Keypoints">2 * point-count values.</param>
/// <param name="Line">1-based line of the row in its file.</param>
public sealed record KeypointRecord(string Name, float[] Keypoints, int Line);

/// <summary>A row that failed validation.</summary>
/// <param name="File">The CSV file.</param>
/// <param name="Line">1-based line number.</param>
/// <param name="Problem">What is wrong.</param>
public sealed record CsvProblem(string File, int Line, string Problem)
{
    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}: {Problem}";
}

/// <summary>The rows read from a keypoint CSV, and the rows left out under <see cref="BadRowPolicy.SkipAndReport"/>.</summary>
/// <param name="Records">Valid rows in file order.</param>
/// <param name="Problems">Rows left out.</param>
public sealed record KeypointCsvResult(IReadOnlyList<KeypointRecord> Records, IReadOnlyList<CsvProblem> Problems);

/// <summary>Thrown for a keypoint CSV that cannot be used; names the file and line.</summary>
public sealed class KeypointCsvException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeypointCsvException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public KeypointCsvException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public KeypointCsvException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a problem at a place in a file.</summary>
    public KeypointCsvException(CsvProblem problem)
        : base(problem?.ToString())
    {
        Problem = problem;
    }

    /// <summary>The file, line and problem, when known.</summary>
    public CsvProblem? Problem { get; }
}

/// <summary>
/// Reads keypoint CSVs in the Udacity layout: a header row, then one row per image with the file name and
/// 2 * N coordinates, optionally followed by more columns (as <c>fkp predict</c> writes), which are not read. Numbers are parsed with the invariant culture; every row is checked for its field count
/// and for finite values. Keypoints outside the image are valid labels and are kept.
/// </summary>
public static class KeypointCsvReader
{
    /// <summary>
    /// The longest line accepted, in characters (1 MiB; a 68-point row is about 1,000). A longer line stops the
    /// read with <see cref="KeypointCsvException"/> under either policy, after reading at most this much of it, so a
    /// damaged file with one enormous line never fills memory.
    /// </summary>
    public const int MaxLineLength = 1 << 20;

    /// <summary>Reads a file.</summary>
    /// <exception cref="KeypointCsvException">A bad row under <see cref="BadRowPolicy.FailFast"/>, no header, or a line longer than <see cref="MaxLineLength"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static KeypointCsvResult Read(string path, LandmarkScheme scheme, BadRowPolicy policy = BadRowPolicy.FailFast)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Keypoint CSV '{path}' does not exist.", path);
        }

        using var reader = new StreamReader(path);
        return Read(reader, path, scheme, policy);
    }

    /// <summary>Reads CSV text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="KeypointCsvException">A bad row under <see cref="BadRowPolicy.FailFast"/>, no header, or a line longer than <see cref="MaxLineLength"/>.</exception>
    public static KeypointCsvResult Read(TextReader text, string source, LandmarkScheme scheme, BadRowPolicy policy = BadRowPolicy.FailFast)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(scheme);
        int expectedFields = 1 + scheme.ValueCount;
        var configuration = new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = true,
            DetectColumnCountChanges = false,
            BadDataFound = null,
        };
        using var bounded = new LineLengthLimit(text, source, MaxLineLength);
        using var csv = new CsvReader(bounded, configuration);
        var records = new List<KeypointRecord>();
        var problems = new List<CsvProblem>();

        if (!csv.Read())
        {
            throw new KeypointCsvException(new CsvProblem(source, 1, "the file is empty; expected a header row"));
        }

        csv.ReadHeader();
        int headerFields = csv.HeaderRecord?.Length ?? 0;
        if (headerFields < expectedFields)
        {
            throw new KeypointCsvException(new CsvProblem(source, 1,
                $"the header has {headerFields} fields; expected {expectedFields} (a name and {scheme.ValueCount} coordinates for {scheme}), optionally followed by more columns"));
        }

        while (csv.Read())
        {
            int line = csv.Parser.RawRow;
            string? problem = Validate(csv, expectedFields, headerFields, out var record);
            if (problem is null)
            {
                records.Add(record! with { Line = line });
                continue;
            }

            var found = new CsvProblem(source, line, problem);
            if (policy == BadRowPolicy.FailFast)
            {
                throw new KeypointCsvException(found);
            }

            problems.Add(found);
        }

        return new KeypointCsvResult(records, problems);
    }

    private static string? Validate(CsvReader csv, int expectedFields, int headerFields, out KeypointRecord? record)
    {
        record = null;
        int count = csv.Parser.Count;
        if (count != headerFields)
        {
            return $"has {count} fields; expected {headerFields}";
        }

        string name = csv.GetField(0) ?? string.Empty;
        if (string.IsNullOrWhiteSpace(name))
        {
            return "has an empty image name";
        }

        var values = new float[expectedFields - 1];
        for (int i = 1; i < expectedFields; i++)
        {
            string field = csv.GetField(i) ?? string.Empty;
            if (!float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            {
                return $"field {i} ('{field}') is not a number";
            }

            if (!float.IsFinite(value))
            {
                return $"field {i} ('{field}') is not finite";
            }

            values[i - 1] = value;
        }

        record = new KeypointRecord(name, values, 0);
        return null;
    }
}

/// <summary>Passes text through, failing once a line grows past a limit, so the CSV parser never buffers an unbounded field.</summary>
internal sealed class LineLengthLimit(TextReader inner, string source, int limit) : TextReader
{
    private int line = 1;
    private int length;

    public override int Peek() => inner.Peek();

    public override int Read()
    {
        int c = inner.Read();
        if (c >= 0)
        {
            Count((char)c);
        }

        return c;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        int n = inner.Read(buffer);
        foreach (char c in buffer[..n])
        {
            Count(c);
        }

        return n;
    }

    private void Count(char c)
    {
        if (c == '\n')
        {
            line++;
            length = 0;
        }
        else if (++length > limit)
        {
            throw new KeypointCsvException(new CsvProblem(source, line, $"the line is longer than {limit} characters; the file is damaged or not a keypoint CSV"));
        }
    }
}
