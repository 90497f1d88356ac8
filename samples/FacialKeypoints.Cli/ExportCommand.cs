using FacialKeypoints.Models.Checkpoints;

namespace FacialKeypoints.Cli;

/// <summary><c>export</c>: rewrites a checkpoint, for example with float16 weights for shipping.</summary>
internal static class ExportCommand
{
    public static int Run(Arguments args)
    {
        string input = args.Option("--model") ?? throw new ArgumentException("export needs --model FILE.");
        string output = args.Option("--out") ?? throw new ArgumentException("export needs --out FILE.");
        bool half = args.Flag("--fp16");
        args.RejectUnknown();
        var (network, metadata) = KeypointCheckpoint.Load(input);
        using (network)
        {
            var written = KeypointCheckpoint.Save(output, network, metadata, half ? CheckpointPrecision.Float16 : CheckpointPrecision.Float32);
            Console.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1e6:F1} MB, {written.Precision}, {written.Layout}, {written.InputWidth}x{written.InputHeight})");
        }

        return 0;
    }
}
