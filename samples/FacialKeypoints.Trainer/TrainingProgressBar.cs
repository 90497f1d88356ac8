using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Training;
using Spectre.Console;

/// <summary>
/// Training progress on standard error: on a terminal two Spectre.Console bars, the epochs and the batches of the
/// current epoch (count, rate, elapsed and remaining time, running loss), with one line per finished epoch above
/// them; when standard error is redirected, a plain line every 10% of an epoch (the trainer's log has the epoch
/// lines); nothing with <c>--quiet</c>.
/// </summary>
internal sealed class TrainingProgressBar : IProgress<TrainingProgress>, IDisposable
{
    private readonly bool quiet;
    private readonly bool live;
    private readonly IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    private readonly Stopwatch epochClock = new();
    private TaskCompletionSource? finished;
    private Task? display;
    private ProgressTask? epochs;
    private ProgressTask? batches;
    private int lastEpoch = -1;
    private int lastDecile = -1;
    private int firstStep;

    public TrainingProgressBar(bool quiet)
    {
        this.quiet = quiet;
        live = !quiet && !Console.IsErrorRedirected && !Console.IsOutputRedirected;
        if (live && Console.WindowWidth > 0)
        {
            console.Profile.Width = Console.WindowWidth; // Spectre cannot read it through standard error
        }
    }

    /// <summary>True while the bars are drawn: other console output (the log) would tear them.</summary>
    public bool IsLive => display is not null;

    public void Report(TrainingProgress value)
    {
        if (quiet)
        {
            return;
        }

        if (!live)
        {
            ReportPlain(value);
            return;
        }

        if (display is null)
        {
            Start(value);
        }

        if (value.Finished is { } m)
        {
            epochs!.Value = value.Epoch;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"epoch {m.Epoch}/{value.Epochs}: train loss {m.TrainLoss:G4}, validation loss {m.ValidationLoss:G4}, NME {m.ValidationNme:F4}, MAE {m.ValidationMae:F2} px, lr {m.LearningRate:G3}, {m.Seconds:F0} s");
            int width = Math.Max(20, console.Profile.Width - 1); // a line the terminal wraps by itself tears the bars
            for (int start = 0; start < line.Length; start += width)
            {
                console.WriteLine(line.Substring(start, Math.Min(width, line.Length - start)));
            }
            return;
        }

        if (value.Epoch != lastEpoch)
        {
            lastEpoch = value.Epoch;
            batches!.Value = 0;
            batches.MaxValue = Math.Max(1, value.Steps);
            epochs!.Value = value.Epoch - 1;
        }

        batches!.Value = value.Step;
        batches.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {value.Epoch} loss {value.Loss:F4}");
    }

    public void Dispose()
    {
        if (display is null)
        {
            return;
        }

        finished!.TrySetResult();
        display.GetAwaiter().GetResult();
        display = null;
    }

    private void Start(TrainingProgress first)
    {
        finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = finished.Task;
        display = console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                epochs = context.AddTask("epochs", maxValue: first.Epochs);
                epochs.Value = first.Epoch - 1;
                batches = context.AddTask("batches", maxValue: Math.Max(1, first.Steps));
                ready.SetResult();
                await done.ConfigureAwait(false);
            });
        ready.Task.GetAwaiter().GetResult();
    }

    private void ReportPlain(TrainingProgress value)
    {
        if (value.Finished is not null)
        {
            return; // the trainer logs the epoch
        }

        if (value.Epoch != lastEpoch)
        {
            (lastEpoch, lastDecile, firstStep) = (value.Epoch, 0, value.Step);
            epochClock.Restart(); // from the first report: the steps since then over the time since then
        }

        int decile = value.Steps > 0 ? 10 * value.Step / value.Steps : 0;
        if (decile > lastDecile)
        {
            lastDecile = decile;
            double seconds = epochClock.Elapsed.TotalSeconds;
            double rate = value.Step > firstStep && seconds > 0 ? (value.Step - firstStep) / seconds : double.NaN;
            string left = double.IsNaN(rate) ? "?" : TimeSpan.FromSeconds((value.Steps - value.Step) / rate).ToString(@"m\:ss", CultureInfo.InvariantCulture);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {value.Epoch}/{value.Epochs}: {value.Step}/{value.Steps} batches ({100 * value.Step / value.Steps}%), {rate:0.00}/s, {left} left in the epoch, loss {value.Loss:F4}"));
        }
    }
}
