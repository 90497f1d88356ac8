using System.CommandLine;
using System.CommandLine.Invocation;
using System.ComponentModel.DataAnnotations;
using FacialKeypoints.Cli.Video;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models;

namespace FacialKeypoints.Cli;

/// <summary>
/// The <c>fkp</c> command tree (System.CommandLine): every command in its own file builds its <see cref="Command"/>;
/// this class puts them under the root, runs one command line and turns user errors into exit code 2.
/// </summary>
internal static class FkpCommandLine
{
    /// <summary>Exit code for a wrong command line or unusable input (a model, a data folder).</summary>
    public const int UsageError = 2;

    /// <summary>The keypoint data folder when <c>--data</c> is not given: <c>$FKP_DATA/facial-keypoints</c>, else <c>../shared/data/facial-keypoints</c>.</summary>
    public static string DefaultData => Environment.GetEnvironmentVariable("FKP_DATA") is { Length: > 0 } root
        ? Path.Combine(root, "facial-keypoints")
        : "../shared/data/facial-keypoints";

    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("fkp: facial landmarks and expressions from the command line (FacialKeypoints.NET).")
        {
            PredictCommand.Create(),
            VideoCommand.Create(),
            EvaluateCommand.Create(),
            ExportCommand.Create(),
            AverageCommand.Create(),
            DatasetCommands.CreateSummary(),
            DatasetCommands.CreateBenchLoader(),
            BenchPredictCommand.Create(),
        };
        foreach (var command in root.Subcommands)
        {
            foreach (var argument in command.Arguments)
            {
                argument.Validators.Add(result => RejectOptionLikeValues(result, command));
            }
        }

        return root;
    }

    /// <summary>
    /// The nearest option name of <paramref name="command"/> to an unknown one (edit distance at most 3), for
    /// "did you mean": System.CommandLine suggests for unmatched tokens, but a command that takes file arguments
    /// takes an unknown option as a file name.
    /// </summary>
    public static string? Nearest(string unknown, Command command) => OptionSuggestions.Nearest(unknown, command.Options);

    private static void RejectOptionLikeValues(System.CommandLine.Parsing.ArgumentResult result, Command command)
    {
        foreach (var token in result.Tokens)
        {
            string value = token.Value;
            if (value.Length > 1 && value[0] == '-' && !File.Exists(value) && !Directory.Exists(value))
            {
                string? nearest = Nearest(value, command);
                result.AddError(nearest is null
                    ? $"Unknown option '{value}' for '{command.Name}'."
                    : $"Unknown option '{value}' for '{command.Name}'. Did you mean '{nearest}'?");
            }
        }
    }

    /// <summary>
    /// Parses and runs one command line. Parse errors (an unknown option, with the nearest known one suggested; a
    /// value of the wrong type; a missing argument) and user errors thrown by a command (a missing file, a model of
    /// the wrong format) are written to standard error as one line each and give exit code 2.
    /// </summary>
    public static int Run(IReadOnlyList<string> args)
    {
        var parse = Create().Parse(args);
        if (parse.Action is ParseErrorAction errorAction)
        {
            // The errors and a pointer to --help, not the whole help under them; plain "fkp" shows the help.
            errorAction.ShowHelp = args.Count == 0;
        }

        try
        {
            int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            if (parse.Errors.Count > 0)
            {
                string command = string.Join(' ', parse.CommandResult.Command.Parents.OfType<Command>().Reverse().Select(c => c.Name).Append(parse.CommandResult.Command.Name).Skip(1).Prepend("fkp"));
                Console.Error.WriteLine($"Run '{command} --help' for the options.");
                return UsageError;
            }

            return code;
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"fkp: {e.Message}");
            return UsageError;
        }
    }

    /// <summary>Prepares the TorchSharp native library before the first torch call (a no-op on current systems).</summary>
    public static void EnsureTorch() => TorchRuntime.EnsureInitialized();

    /// <summary>An option that takes one of an enum's members, written in lower case (<c>--precision int8|float32</c>).</summary>
    /// <param name="name">The option's name.</param>
    /// <param name="description">What it chooses.</param>
    /// <param name="defaultValue">The value when the option is not given (shown in the help, in lower case).</param>
    /// <param name="allowed">The members accepted; all when empty.</param>
    public static ChoiceOption<T> Choice<T>(string name, string description, T defaultValue, params T[] allowed)
        where T : struct, Enum => new(name, description, defaultValue, allowed);
    /// <summary>Refuses paths that do not exist, one error per path (option-like values are left to the unknown-option check).</summary>
    public static Argument<T> Existing<T>(this Argument<T> argument)
    {
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => !t.Value.StartsWith('-') && !File.Exists(t.Value) && !Directory.Exists(t.Value)))
            {
                result.AddError($"'{token.Value}' does not exist.");
            }
        });
        return argument;
    }

    /// <summary>Refuses a path that does not exist, naming the option.</summary>
    public static Option<T> Existing<T>(this Option<T> option)
        where T : FileSystemInfo
    {
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => !File.Exists(t.Value) && !Directory.Exists(t.Value)))
            {
                result.AddError($"{option.Name}: '{token.Value}' does not exist.");
            }
        });
        return option;
    }

    /// <summary>An option with a value and a default shown in the help.</summary>
    public static Option<T> Value<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>A switch that takes no value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>
    /// <c>--flip</c>: average each face with its mirror image, on by default (<c>--flip false</c> for one landmark pass).
    /// The default since the int8 expression network made room for it in the 10 ms budget (docs/benchmarks.md).
    /// </summary>
    public static Option<bool> Flip() => new("--flip")
    {
        Description = "Average each face with its mirror image: two landmark passes, about 2 ms more per face, test NME 0.0491 instead of 0.0512 [default: true; --flip false for one pass]",
        DefaultValueFactory = _ => true,
        HelpName = "true|false",
    };

    /// <summary><c>--quiet</c>: no progress bar, only problems and the summary line.</summary>
    public static Option<bool> Quiet() => Flag("--quiet", "No progress bar; problems and the closing summary line are still printed (standard error).");

    /// <summary>Refuses values below <paramref name="minimum"/>, naming the option.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < minimum)
            {
                result.AddError($"{option.Name} must be at least {minimum}.");
            }
        });
        return option;
    }

    /// <summary>The progress reporter the command line asks for.</summary>
    public static IProgressReporter Progress(bool quiet) => ConsoleProgress.Create(quiet);

    private static bool IsUserError(Exception e) => e is ArgumentException or ModelFormatException or KeypointCsvException
        or ImageDecodeException or FileNotFoundException or DirectoryNotFoundException or TorchRuntimeException
        or InvalidDataException or ValidationException or VideoException or DeviceUnavailableException;
}

/// <summary>The face detector as the command line names it.</summary>
internal enum DetectorChoice
{
    /// <summary>BlazeFace's back model above 512 px, the front one below.</summary>
    Auto,

    /// <summary>BlazeFace front (selfie distance).</summary>
    Front,

    /// <summary>BlazeFace back (faces small in the picture).</summary>
    Back,

    /// <summary>No detector: the whole image is one face crop.</summary>
    None,
}

/// <summary>The landmark network's number format.</summary>
internal enum PrecisionChoice
{
    /// <summary>Statically quantised (faster, NME 0.0518 against 0.0516).</summary>
    Int8,

    /// <summary>Float32.</summary>
    Float32,
}

/// <summary>Where TorchSharp runs.</summary>
internal enum DeviceChoice
{
    /// <summary>The CPU (libtorch-cpu-linux-x64 or TorchSharp-cpu).</summary>
    Cpu,

    /// <summary>The first CUDA GPU (needs a CUDA build of libtorch in the application).</summary>
    Cuda,
}

/// <summary>The CUDA backend was asked for and is not there.</summary>
internal sealed class DeviceUnavailableException(string message) : InvalidOperationException(message);

/// <summary>Mapping of the command-line choices to the libraries' types.</summary>
internal static class Choices
{
    public static FacialKeypoints.Inference.FaceDetectorKind ToDetector(this DetectorChoice choice) => choice switch
    {
        DetectorChoice.Front => FacialKeypoints.Inference.FaceDetectorKind.BlazeFaceFront,
        DetectorChoice.Back => FacialKeypoints.Inference.FaceDetectorKind.BlazeFaceBack,
        DetectorChoice.None => FacialKeypoints.Inference.FaceDetectorKind.None,
        _ => FacialKeypoints.Inference.FaceDetectorKind.Auto,
    };

    public static FacialKeypoints.Inference.InferencePrecision ToPrecision(this PrecisionChoice choice) =>
        choice == PrecisionChoice.Float32 ? FacialKeypoints.Inference.InferencePrecision.Float32 : FacialKeypoints.Inference.InferencePrecision.Int8;

    /// <summary>
    /// The TorchSharp device for <c>--device</c>; for <c>cuda</c> checks that a CUDA backend is loaded and throws
    /// <see cref="DeviceUnavailableException"/> saying which package to add when it is not.
    /// </summary>
    public static TorchSharp.torch.Device ToTorchDevice(this DeviceChoice choice)
    {
        if (choice == DeviceChoice.Cpu)
        {
            return TorchSharp.torch.CPU;
        }

        FkpCommandLine.EnsureTorch();
        if (!TorchSharp.torch.cuda.is_available())
        {
            throw new DeviceUnavailableException(
                "--device cuda: no CUDA device or no CUDA build of libtorch. This build references libtorch-cpu-linux-x64; on a GPU machine "
                + "reference TorchSharp-cuda-linux (or TorchSharp-cuda-windows) of the same TorchSharp version instead (see docs/training-guide.md#gpu).");
        }

        return TorchSharp.torch.CUDA;
    }
}
