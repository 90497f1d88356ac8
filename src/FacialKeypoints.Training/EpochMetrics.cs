using System.Globalization;
using System.Text;

namespace FacialKeypoints.Training;

/// <summary>One row of <c>metrics.csv</c>.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="ValidationLoss">Mean validation loss.</param>
/// <param name="ValidationNme">Validation NME (224 frame).</param>
/// <param name="ValidationMae">Validation pixel MAE (224 frame).</param>
/// <param name="LearningRate">Learning rate of the epoch.</param>
/// <param name="Seconds">Wall time of the epoch, validation included.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValidationLoss, double ValidationNme, double ValidationMae, double LearningRate, double Seconds);

/// <summary>Reads and writes <c>metrics.csv</c>.</summary>
internal static class MetricsCsv
{
    /// <summary>The header row.</summary>
    public const string Header = "epoch,train_loss,val_loss,val_nme,val_mae224,lr,seconds";

    /// <summary>Writes all rows, atomically.</summary>
    public static void Write(string path, IEnumerable<EpochMetrics> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"{r.Epoch},{r.TrainLoss:G6},{r.ValidationLoss:G6},{r.ValidationNme:G6},{r.ValidationMae:G6},{r.LearningRate:G6},{r.Seconds:F1}\n");
        }

        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads the rows of a file written by <see cref="Write"/>; an absent file gives none.</summary>
    /// <exception cref="FormatException">A row is malformed (names the file and line).</exception>
    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var rows = new List<EpochMetrics>();
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (line == 1 || text.Length == 0)
            {
                continue;
            }

            var f = text.Split(',');
            if (f.Length != 7)
            {
                throw new FormatException($"{path}:{line}: expected 7 fields, got {f.Length}.");
            }

            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            rows.Add(new EpochMetrics(int.Parse(f[0], CultureInfo.InvariantCulture), D(1), D(2), D(3), D(4), D(5), D(6)));
        }

        return rows;
    }
}

/// <summary>Writes files so a crash leaves the old or the new version, never half of one.</summary>
internal static class AtomicFile
{
    /// <summary>Writes text through a temporary file and a rename.</summary>
    public static void WriteAllText(string path, string contents) => Write(path, temporary => File.WriteAllText(temporary, contents));

    /// <summary>Calls <paramref name="write"/> with a temporary path beside <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = $"{full}.{Environment.ProcessId}.tmp";
        try
        {
            write(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
