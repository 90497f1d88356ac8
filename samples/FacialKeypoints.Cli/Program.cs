using FacialKeypoints.Cli;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;

const string Usage = """
    fkp: facial keypoints from the command line

      fkp predict <images or folders...> [--list FILE] [--out FILE.csv] [--annotate DIR] [--no-detect]
                  [--detector front|back|none] [--precision int8|float32] [--flip] [--refine] [--no-expression]
                  [--model FILE.onnx] [--expression-model FILE.onnx] [--threads 2] [--quiet]
      fkp video <input.mp4> --out FILE.mp4 [--csv FRAMES.csv] [--redetect 10] [--detector front|back]
                [--precision int8|float32] [--no-expression] [--frames N] [--camera /dev/video0] [--quiet]
      fkp evaluate [--data DIR] [--split test|training|validation|unseen] [--model FILE.onnx|FILE.safetensors] --out DIR
                   [--no-detect] [--flip] [--refine] [--precision int8|float32]
                   [--seed 42] [--validation-fraction 0.1]
      fkp export --model FILE --out FILE [--fp16]
      fkp average --out FILE MODEL MODEL...
      fkp summary [--data DIR]
      fkp bench-loader [--data DIR] [--size 160] [--workers 2]
      fkp bench-predict [--data DIR] [--model FILE] [--images 100] [--threads N] [--expression MODE]

    predict finds every face (BlazeFace; --no-detect takes the whole image as one face crop) and writes one CSV row
    per face: name,x0,y0,...,x67,y67,expression in the original image's pixels, then face,box_x,box_y,box_width,
    box_height,score,p_negative,p_neutral,p_positive,emotion and the seven e_<emotion> probabilities. An image with
    no face is named on stderr and counted; a file that cannot be read is named on stderr and the exit code is 1.
    It runs on ONNX Runtime with the models inside FacialKeypoints.Inference; --model takes a landmark network
    exported with 'fkp export --onnx'. --flip averages with the mirrored face, --refine frames a second landmark
    pass by the first one's landmarks (each about doubles the landmark cost).
    video draws the faces, their landmarks and expression on every frame (ffmpeg decodes and encodes: install
    Debian's ffmpeg package), runs the detector every --redetect frames and follows the faces by their landmarks
    in between, and prints the time of each stage; --csv writes frame,x0,y0,...,x67,y67,expression and the
    predict columns per face per frame.
    average writes the element-wise mean of several networks' weights (trainer last-model-NNN.bin snapshots allowed
    after the first, which must be a checkpoint).
    evaluate --split validation scores the trainer's held-out rows (its random split with the same seed and fraction).
    --data defaults to $FKP_DATA/facial-keypoints, else ../shared/data/facial-keypoints.
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    TorchRuntime.EnsureInitialized();
    var rest = args[1..];
    int code = args[0] switch
    {
        "predict" => PredictCommand.Run(new Arguments(rest, PredictCommand.Flags)),
        "video" => FacialKeypoints.Cli.Video.VideoCommand.Run(new Arguments(rest, FacialKeypoints.Cli.Video.VideoCommand.Flags)),
        "evaluate" => EvaluateCommand.Run(new Arguments(rest, ["--no-detect", "--flip", "--refine"])),
        "export" => ExportCommand.Run(new Arguments(rest, ["--fp16", "--onnx", "--int8"])),
        "average" => AverageCommand.Run(new Arguments(rest, [])),
        "summary" => Run(new Arguments(rest, []), DatasetCommands.Summary),
        "bench-loader" => Run(new Arguments(rest, []), DatasetCommands.BenchLoader),
        "bench-predict" => Run(new Arguments(rest, []), BenchPredictCommand.Run),
        _ => throw new ArgumentException($"Unknown command '{args[0]}'.\n{Usage}"),
    };
    return code;
}
catch (Exception e) when (e is ArgumentException or FacialKeypoints.Models.ModelFormatException or KeypointCsvException or ImageDecodeException or FileNotFoundException or DirectoryNotFoundException or TorchRuntimeException or InvalidDataException or System.ComponentModel.DataAnnotations.ValidationException or FacialKeypoints.Cli.Video.VideoException)
{
    Console.Error.WriteLine($"fkp: {e.Message}");
    return 2;
}

static int Run(Arguments arguments, Func<Arguments, int> command) => command(arguments);
