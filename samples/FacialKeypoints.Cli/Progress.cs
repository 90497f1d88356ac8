using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FacialKeypoints.Cli;

/// <summary>Progress of a long command: count, rate and time left on standard error, and a summary line at the end.</summary>
internal interface IProgressReporter : IDisposable
{
    /// <summary>Starts a task of <paramref name="total"/> items (0: unknown).</summary>
    void Start(string task, int total);

    void Advance(int count = 1);

    /// <summary>A message about one item (printed above the progress bar; also with --quiet). Thread-safe.</summary>
    void Note(string message);

    /// <summary>Ends the bar and prints the closing summary (always, also with --quiet).</summary>
    void Finish(string summary);
}

/// <summary>
/// Picks the reporter: a Spectre.Console progress bar (count, percentage, rate, elapsed and remaining time) when
/// standard error is a terminal; plain lines every 10% or 10 seconds when it is redirected (CI logs); only notes and
/// the summary with <c>--quiet</c>. Everything goes to standard error, so standard output stays data.
/// </summary>
internal static class ConsoleProgress
{
    public static IProgressReporter Create(bool quiet) =>
        quiet ? new PlainProgress(quiet: true)
        : Console.IsErrorRedirected ? new PlainProgress(quiet: false)
        : new LiveProgress();
}

/// <summary>Plain lines: for redirected output (one line every 10% or 10 seconds) and for <c>--quiet</c> (none).</summary>
internal sealed class PlainProgress(bool quiet) : IProgressReporter
{
    private readonly Stopwatch clock = new();
    private readonly Lock gate = new();
    private string task = string.Empty;
    private int total;
    private int done;
    private int lastDecile = -1;
    private double lastPrinted;

    public void Start(string task, int total)
    {
        (this.task, this.total, done, lastDecile, lastPrinted) = (task, total, 0, 0, 0); // the first line at 10% (or after 10 s)
        clock.Restart();
    }

    public void Advance(int count = 1)
    {
        done += count;
        if (quiet)
        {
            return;
        }

        double seconds = clock.Elapsed.TotalSeconds;
        int decile = total > 0 ? 10 * done / total : -1;
        if ((total > 0 && decile != lastDecile) || seconds - lastPrinted >= 10)
        {
            lastDecile = decile;
            lastPrinted = seconds;
            Note(ProgressText.Line(task, done, total, clock.Elapsed));
        }
    }

    public void Note(string message)
    {
        lock (gate)
        {
            Console.Error.WriteLine(message);
        }
    }

    public void Finish(string summary) => Note($"{task}: {summary}");

    public void Dispose()
    {
    }
}

/// <summary>A live Spectre.Console progress bar on standard error; notes appear above it.</summary>
internal sealed class LiveProgress : IProgressReporter
{
    private readonly IAnsiConsole console = LiveConsole.OnStandardError();
    private readonly Lock gate = new();
    private TaskCompletionSource? finished;
    private Task? display;
    private ProgressTask? bar;
    private string task = string.Empty;

    public void Start(string task, int total)
    {
        Stop();
        this.task = task;
        finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = new TaskCompletionSource<ProgressTask>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = finished.Task;
        display = console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountColumn(), new RateColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var added = context.AddTask(task, maxValue: Math.Max(total, 1));
                added.IsIndeterminate = total <= 0;
                ready.SetResult(added);
                await done.ConfigureAwait(false);
            });
        bar = ready.Task.GetAwaiter().GetResult();
    }

    public void Advance(int count = 1) => bar?.Increment(count);

    public void Note(string message)
    {
        lock (gate)
        {
            // Lines are cut to the width here: a line that the terminal wraps by itself tears the bar below it.
            int width = Math.Max(20, console.Profile.Width - 1);
            foreach (string line in message.Split('\n'))
            {
                for (int start = 0; start == 0 || start < line.Length; start += width)
                {
                    console.WriteLine(line.Substring(start, Math.Min(width, line.Length - start)));
                }
            }
        }
    }

    public void Finish(string summary)
    {
        Stop();
        Note($"{task}: {summary}");
    }

    public void Dispose() => Stop();

    private void Stop()
    {
        if (finished is null)
        {
            return;
        }

        bar?.StopTask();
        finished.TrySetResult();
        display?.GetAwaiter().GetResult();
        (finished, display, bar) = (null, null, null);
    }

    /// <summary>Items done of the total (<c>12/770</c>).</summary>
    private sealed class CountColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.IsIndeterminate
                ? task.Value.ToString("0", CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{task.Value:0}/{task.MaxValue:0}"));
    }

    /// <summary>Items per second over the recent past.</summary>
    private sealed class RateColumn : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } speed ? string.Create(CultureInfo.InvariantCulture, $"{speed:0.0}/s") : "-/s", new Style(Color.Grey));
    }
}

/// <summary>The Spectre.Console console for live output on standard error.</summary>
internal static class LiveConsole
{
    /// <summary>
    /// A console on standard error that knows the terminal's width: Spectre cannot read it from a redirected-looking
    /// writer, and a note wider than it thinks would wrap in the terminal and tear the bar.
    /// </summary>
    public static IAnsiConsole OnStandardError()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        try
        {
            if (Console.WindowWidth > 0)
            {
                console.Profile.Width = Console.WindowWidth;
            }
        }
        catch (IOException)
        {
            // no terminal: keep Spectre's default
        }

        return console;
    }
}

/// <summary>The plain progress line.</summary>
internal static class ProgressText
{
    public static string Line(string task, int done, int total, TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        double rate = seconds > 0 ? done / seconds : 0;
        if (total <= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{task}: {done}, {rate:0.0}/s");
        }

        string eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate).ToString(@"m\:ss", CultureInfo.InvariantCulture) : "?";
        return string.Create(CultureInfo.InvariantCulture, $"{task}: {done}/{total} ({100.0 * done / total:0}%), {rate:0.0}/s, {eta} left");
    }
}
