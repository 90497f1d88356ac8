using System.Diagnostics;
using System.Globalization;

namespace FacialKeypoints.Cli;

/// <summary>Progress of a long command: count, rate and time left on standard error, and a summary line at the end.</summary>
internal interface IProgressReporter
{
    void Start(string task, int total);

    void Advance(int count = 1);

    /// <summary>A message about one item (printed above the progress line).</summary>
    void Note(string message);

    /// <summary>The closing summary (always printed, also with --quiet).</summary>
    void Finish(string summary);
}

/// <summary>
/// Progress on standard error: a line redrawn in place on a terminal; on a redirected stream (CI logs) a plain line
/// every 10% or 10 seconds; nothing but notes and the summary when quiet.
/// </summary>
internal sealed class ConsoleProgress(bool quiet) : IProgressReporter
{
    private readonly Stopwatch clock = new();
    private readonly bool live = !Console.IsErrorRedirected;
    private string task = string.Empty;
    private int total;
    private int done;
    private int lastDecile = -1;
    private double lastPrinted;

    public void Start(string task, int total)
    {
        this.task = task;
        this.total = total;
        done = 0;
        clock.Restart();
        Print();
    }

    public void Advance(int count = 1)
    {
        done += count;
        Print();
    }

    public void Note(string message)
    {
        if (live && !quiet)
        {
            Console.Error.Write("\r\u001b[2K");
        }

        Console.Error.WriteLine(message);
        Print(force: true);
    }

    public void Finish(string summary)
    {
        if (live && !quiet)
        {
            Console.Error.Write("\r\u001b[2K");
        }

        Console.Error.WriteLine($"{task}: {summary}");
    }

    private void Print(bool force = false)
    {
        if (quiet || total <= 0)
        {
            return;
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double rate = seconds > 0 ? done / seconds : 0;
        string eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"m\:ss", CultureInfo.InvariantCulture) : "?";
        string line = string.Create(CultureInfo.InvariantCulture, $"{task}: {done}/{total} ({100.0 * done / total:0}%), {rate:0.0}/s, {eta} left");
        if (live)
        {
            if (force || seconds - lastPrinted > 0.2 || done == total)
            {
                int width = 30, filled = total > 0 ? width * done / total : 0;
                Console.Error.Write($"\r\u001b[2K[{new string('#', filled)}{new string('.', width - filled)}] {line}");
                lastPrinted = seconds;
            }

            return;
        }

        int decile = 10 * done / total;
        if (decile != lastDecile || seconds - lastPrinted >= 10)
        {
            lastDecile = decile;
            lastPrinted = seconds;
            Console.Error.WriteLine(line);
        }
    }
}
