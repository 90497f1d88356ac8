using System.Globalization;

namespace FacialKeypoints.Data;

/// <summary>
/// Reads iBUG <c>.pts</c> landmark files (300-W, LFPW, HELEN, AFW, IBUG, Menpo): a header
/// (<c>version: 1</c>, <c>n_points: 68</c>), <c>{</c>, one <c>x y</c> line per point, <c>}</c>. The file's
/// coordinates are 1-based (the centre of the top-left pixel is (1, 1)); the reader subtracts 1, so the result
/// follows the library's 0-based pixel-centre convention, the same as the keypoint CSVs. Tolerated: CRLF or LF
/// line ends, blank lines, comments from <c>#</c> or <c>//</c> to the end of the line, and a file of bare
/// <c>x y</c> lines without header and braces (as some copies of 300-W ship). Problems name the file and line.
/// </summary>
public static class PtsReader
{
    /// <summary>Reads one file; the record's name is <paramref name="imageName"/> (or the file name with <c>.pts</c> dropped).</summary>
    /// <param name="path">The <c>.pts</c> file.</param>
    /// <param name="scheme">The expected landmark scheme; the point count must match it.</param>
    /// <param name="imageName">The name to give the record; the image file beside it, usually.</param>
    /// <returns>The keypoints, 0-based, in the image's pixels.</returns>
    /// <exception cref="KeypointCsvException">The file is malformed; the message names the file and line.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static KeypointRecord Read(string path, LandmarkScheme scheme, string? imageName = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Landmark file '{path}' does not exist.", path);
        }

        using var reader = new StreamReader(path);
        return Read(reader, path, scheme, imageName ?? Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Reads <c>.pts</c> text; <paramref name="source"/> names it in errors.</summary>
    /// <param name="text">The text.</param>
    /// <param name="source">The file name to report.</param>
    /// <param name="scheme">The expected landmark scheme.</param>
    /// <param name="name">The record's name.</param>
    /// <returns>The keypoints, 0-based.</returns>
    /// <exception cref="KeypointCsvException">The text is malformed.</exception>
    public static KeypointRecord Read(TextReader text, string source, LandmarkScheme scheme, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(name);
        var lines = Meaningful(text);
        KeypointCsvException Fail(int line, string problem) => new(new CsvProblem(source, line, problem));
        if (lines.Count == 0)
        {
            throw Fail(1, "the file holds no landmarks");
        }

        int position = 0;
        int expected = scheme.Count;
        bool braced = false;
        while (position < lines.Count && !IsPoint(lines[position].Text))
        {
            var (line, content) = lines[position++];
            if (content == "{")
            {
                braced = true;
                break;
            }

            int colon = content.IndexOf(':', StringComparison.Ordinal);
            string key = colon < 0 ? content : content[..colon].Trim();
            string value = colon < 0 ? string.Empty : content[(colon + 1)..].Trim();
            if (key.Equals("version", StringComparison.OrdinalIgnoreCase))
            {
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    throw Fail(line, $"'version' is '{value}', not a number");
                }
            }
            else if (key.Equals("n_points", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out expected))
                {
                    throw Fail(line, $"'n_points' is '{value}', not a whole number");
                }

                if (expected != scheme.Count)
                {
                    throw Fail(line, $"n_points is {expected}; {scheme} needs {scheme.Count}");
                }
            }
            else
            {
                throw Fail(line, $"unexpected header line '{content}'; expected 'version: 1', 'n_points: {scheme.Count}' or '{{'");
            }
        }

        if (!braced && position > 0)
        {
            throw Fail(lines[position - 1].Line, "the header is not followed by '{'");
        }

        var values = new float[scheme.ValueCount];
        int points = 0;
        int closing = -1;
        for (; position < lines.Count; position++)
        {
            var (line, content) = lines[position];
            if (content == "}")
            {
                if (!braced)
                {
                    throw Fail(line, "'}' without an opening '{'");
                }

                closing = line;
                position++;
                break;
            }

            if (points == expected)
            {
                throw Fail(line, $"more than the {expected} points expected");
            }

            string? problem = ParsePoint(content, values, points);
            if (problem is not null)
            {
                throw Fail(line, problem);
            }

            points++;
        }

        int last = lines[^1].Line;
        if (braced && closing < 0)
        {
            throw Fail(last, "the point block has no closing '}'");
        }

        if (position < lines.Count)
        {
            throw Fail(lines[position].Line, $"unexpected text after the closing '}}': '{lines[position].Text}'");
        }

        if (points != expected)
        {
            throw Fail(braced ? closing : last, $"has {points} points; expected {expected}");
        }

        return new KeypointRecord(name, values, 1);
    }

    private static string? ParsePoint(string content, float[] values, int point)
    {
        var fields = content.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 2)
        {
            return $"point line '{content}' has {fields.Length} fields; expected 'x y'";
        }

        for (int c = 0; c < 2; c++)
        {
            if (!float.TryParse(fields[c], NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            {
                return $"'{fields[c]}' in point {point + 1} is not a finite number";
            }

            // 1-based file coordinates to the library's 0-based pixel centres.
            values[(2 * point) + c] = value - 1;
        }

        return null;
    }

    private static bool IsPoint(string content) => content.Length > 0 && (char.IsAsciiDigit(content[0]) || content[0] is '-' or '+' or '.');

    /// <summary>Lines with comments and surrounding white space removed, blank ones left out, with 1-based numbers.</summary>
    private static List<(int Line, string Text)> Meaningful(TextReader text)
    {
        var result = new List<(int, string)>();
        int number = 0;
        while (text.ReadLine() is { } raw)
        {
            number++;
            int hash = raw.IndexOf('#', StringComparison.Ordinal);
            int slashes = raw.IndexOf("//", StringComparison.Ordinal);
            int cut = hash < 0 ? slashes : slashes < 0 ? hash : Math.Min(hash, slashes);
            string content = (cut < 0 ? raw : raw[..cut]).Trim();
            if (content.Length > 0)
            {
                result.Add((number, content));
            }
        }

        return result;
    }
}
