using System.Globalization;
using System.Text;
using CsvHelper;

namespace FacialKeypoints.Core;

/// <summary>
/// Writes keypoint CSVs that <see cref="KeypointCsvReader"/> reads back: a header <c>name,x0,y0,...</c> followed by
/// any extra columns, then one row per face. Names with commas, quotes or line breaks are quoted; numbers use the
/// invariant culture. Not thread-safe.
/// </summary>
public sealed class KeypointCsvWriter : IDisposable
{
    private readonly CsvWriter csv;
    private readonly int extraCount;
    private readonly int valueCount;

    /// <summary>Starts a CSV on <paramref name="writer"/> and writes its header.</summary>
    /// <param name="writer">Where the text goes; disposed with this writer unless <paramref name="leaveOpen"/>.</param>
    /// <param name="scheme">The landmark scheme (number of points).</param>
    /// <param name="extraColumns">Names of the columns after the coordinates.</param>
    /// <param name="leaveOpen">Keep <paramref name="writer"/> open on dispose.</param>
    /// <param name="firstColumn">The first column's header: <c>name</c> for images, <c>frame</c> for video.</param>
    public KeypointCsvWriter(TextWriter writer, LandmarkScheme scheme, IReadOnlyList<string>? extraColumns = null, bool leaveOpen = false, string firstColumn = "name")
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(scheme);
        extraColumns ??= [];
        csv = new CsvWriter(writer, CultureInfo.InvariantCulture, leaveOpen);
        valueCount = scheme.ValueCount;
        extraCount = extraColumns.Count;
        csv.WriteField(firstColumn);
        for (int i = 0; i < scheme.Count; i++)
        {
            csv.WriteField(string.Create(CultureInfo.InvariantCulture, $"x{i}"));
            csv.WriteField(string.Create(CultureInfo.InvariantCulture, $"y{i}"));
        }

        foreach (string column in extraColumns)
        {
            csv.WriteField(column);
        }

        csv.NextRecord();
    }

    /// <summary>Creates (or overwrites) a UTF-8 file without byte-order mark.</summary>
    /// <param name="path">The file.</param>
    /// <param name="scheme">The landmark scheme.</param>
    /// <param name="extraColumns">Names of the columns after the coordinates.</param>
    /// <param name="firstColumn">The first column's header.</param>
    /// <returns>The writer.</returns>
    public static KeypointCsvWriter Create(string path, LandmarkScheme scheme, IReadOnlyList<string>? extraColumns = null, string firstColumn = "name") =>
        new(new StreamWriter(path, false, new UTF8Encoding(false)), scheme, extraColumns, leaveOpen: false, firstColumn);

    /// <summary>Writes one row: the name, the coordinates (to 0.01 px), then the extra values as given.</summary>
    /// <param name="name">The image name.</param>
    /// <param name="keypoints">Flat (x0, y0, ...) coordinates.</param>
    /// <param name="extras">One value per extra column, already formatted.</param>
    /// <exception cref="ArgumentException">The counts do not match the header.</exception>
    public void WriteRow(string name, ReadOnlySpan<float> keypoints, IReadOnlyList<string>? extras = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        extras ??= [];
        if (keypoints.Length != valueCount || extras.Count != extraCount)
        {
            throw new ArgumentException($"Expected {valueCount} coordinates and {extraCount} extra values, got {keypoints.Length} and {extras.Count}.");
        }

        csv.WriteField(name);
        foreach (float value in keypoints)
        {
            csv.WriteField(value.ToString("0.##", CultureInfo.InvariantCulture));
        }

        foreach (string extra in extras)
        {
            csv.WriteField(extra);
        }

        csv.NextRecord();
    }

    /// <summary>Pushes buffered rows to the underlying writer.</summary>
    public void Flush() => csv.Flush();

    /// <inheritdoc/>
    public void Dispose() => csv.Dispose();
}
