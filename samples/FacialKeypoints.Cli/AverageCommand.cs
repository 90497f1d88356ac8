using System.CommandLine;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Cli;

/// <summary>
/// <c>average</c>: the element-wise mean of the weights of several networks of one architecture, for example the
/// ends of successive low-learning-rate epochs (weight averaging often lands nearer the middle of a flat minimum
/// than any single snapshot). The first model must be a checkpoint; its metadata is kept. The others may be
/// checkpoints or the trainer's <c>last-model-NNN.bin</c> snapshots. Batch-norm running statistics are averaged
/// like the weights; integer buffers are taken from the first model.
/// </summary>
internal static class AverageCommand
{
    /// <summary>The <c>average</c> command.</summary>
    public static Command Create()
    {
        var models = new Argument<FileInfo[]>("models")
        {
            Description = "A checkpoint, then further checkpoints or trainer last-model-NNN.bin snapshots of the same architecture",
            Arity = new ArgumentArity(2, ArgumentArity.OneOrMore.MaximumNumberOfValues),
        }.Existing();
        var output = new Option<FileInfo>("--out", "-o") { Description = "The checkpoint to write", HelpName = "FILE", Required = true };
        var command = new Command("average", "Write the element-wise mean of several networks' weights (the first one's metadata is kept).") { models, output };
        command.SetAction(parse => Run([.. parse.GetRequiredValue(models).Select(m => m.FullName)], parse.GetRequiredValue(output).FullName));
        return command;
    }

    public static int Run(IReadOnlyList<string> inputs, string output)
    {
        if (inputs.Count < 2)
        {
            throw new ArgumentException("average needs at least two models.");
        }

        FkpCommandLine.EnsureTorch();
        var (network, metadata) = KeypointCheckpoint.Load(inputs[0]);
        var (scratch, _) = KeypointCheckpoint.Load(inputs[0]); // same architecture; each other input is read into it
        using (network)
        using (scratch)
        using (no_grad())
        {
            var target = network.state_dict();
            var sums = target.Where(p => p.Value.is_floating_point()).ToDictionary(p => p.Key, p => p.Value.to(float64), StringComparer.Ordinal);
            foreach (string input in inputs.Skip(1))
            {
                ReadInto(input, inputs[0], metadata, scratch);
                using var scope = NewDisposeScope();
                foreach (var (name, value) in scratch.state_dict().Where(p => sums.ContainsKey(p.Key)))
                {
                    sums[name].add_(value.to(float64));
                }
            }

            foreach (var (name, sum) in sums)
            {
                using var mean = sum.div(inputs.Count);
                target[name].copy_(mean);
                sum.Dispose();
            }

            KeypointCheckpoint.Save(output, network, metadata, metadata.Precision);
        }

        Console.WriteLine($"wrote {output}: the mean of {inputs.Count} networks ({metadata.Layout}, {metadata.InputWidth}x{metadata.InputHeight})");
        return 0;
    }

    /// <summary>Reads a checkpoint (checked to fit, same input size) or a trainer snapshot into the scratch network.</summary>
    private static void ReadInto(string path, string first, ModelMetadata metadata, KeypointNetwork scratch)
    {
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            // A trainer snapshot holds weights only, in TorchSharp's format.
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path} does not exist.", path);
            }

            scratch.load(path);
            return;
        }

        var other = KeypointCheckpoint.LoadInto(path, scratch);
        if (other.InputWidth != metadata.InputWidth || other.InputHeight != metadata.InputHeight)
        {
            throw new ArgumentException($"{path} takes {other.InputWidth}x{other.InputHeight} px input but {first} takes {metadata.InputWidth}x{metadata.InputHeight}.");
        }
    }
}
