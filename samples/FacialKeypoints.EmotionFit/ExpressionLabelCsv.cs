using System.Globalization;

namespace FacialKeypoints.EmotionFit;

/// <summary>One row of an expression label CSV.</summary>
/// <param name="Name">The image file name.</param>
/// <param name="Label">The label, or null for <c>unclear</c> (excluded from fitting and scoring).</param>
/// <param name="Line">The 1-based line number, for messages.</param>
internal sealed record ExpressionLabelRecord(string Name, ExpressionLabel? Label, int Line);

/// <summary>Reads expression label CSVs: a header <c>name,label</c>, then one image name and label per line.</summary>
internal static class ExpressionLabelCsv
{
    /// <summary>Reads a file.</summary>
    /// <param name="path">The CSV file.</param>
    /// <returns>The rows in file order.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A row is malformed, a label unknown, or a name repeated.</exception>
    public static IReadOnlyList<ExpressionLabelRecord> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Label CSV '{path}' does not exist.", path);
        }

        using var reader = new StreamReader(path);
        return Read(reader, path);
    }

    /// <summary>Reads CSV text; <paramref name="source"/> names it in errors.</summary>
    /// <param name="text">The CSV text.</param>
    /// <param name="source">A name for messages.</param>
    /// <returns>The rows in order.</returns>
    /// <exception cref="FormatException">The header is not <c>name,label</c>, a row is malformed, a label unknown, or a name repeated.</exception>
    public static IReadOnlyList<ExpressionLabelRecord> Read(TextReader text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        string? header = text.ReadLine();
        if (header is null || !header.Trim().Equals("name,label", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"{source}:1: expected the header 'name,label', found '{header}'.");
        }

        var records = new List<ExpressionLabelRecord>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int line = 1;
        for (string? row = text.ReadLine(); row is not null; row = text.ReadLine())
        {
            line++;
            if (string.IsNullOrWhiteSpace(row))
            {
                continue;
            }

            string[] fields = row.Split(',');
            if (fields.Length != 2 || string.IsNullOrWhiteSpace(fields[0]))
            {
                throw new FormatException($"{source}:{line}: expected 'name,label', found '{row}'.");
            }

            string name = fields[0].Trim();
            if (!seen.Add(name))
            {
                throw new FormatException($"{source}:{line}: '{name}' is labelled twice.");
            }

            ExpressionLabel? label;
            try
            {
                label = ExpressionLabels.Parse(fields[1]);
            }
            catch (FormatException e)
            {
                throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{source}:{line}: {e.Message}"), e);
            }

            records.Add(new ExpressionLabelRecord(name, label, line));
        }

        return records;
    }
}
