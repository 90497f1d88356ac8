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
    public static int Run(Arguments args)
    {
        string output = args.Option("--out") ?? throw new ArgumentException("average needs --out FILE.");
        args.RejectUnknown();
        var inputs = args.Positional;
        if (inputs.Count < 2)
        {
            throw new ArgumentException("average needs at least two models.");
        }

        var (network, metadata) = KeypointCheckpoint.Load(inputs[0]);
        using (network)
        using (no_grad())
        {
            var target = network.state_dict();
            var sums = target.Where(p => p.Value.is_floating_point()).ToDictionary(p => p.Key, p => p.Value.to(float64), StringComparer.Ordinal);
            foreach (string input in inputs.Skip(1))
            {
                using var other = LoadLike(input, inputs[0], metadata);
                foreach (var (name, value) in other.state_dict().Where(p => sums.ContainsKey(p.Key)))
                {
                    sums[name].add_(value.to(float64));
                }
            }

            foreach (var (name, sum) in sums)
            {
                target[name].copy_(sum.div(inputs.Count).to(target[name].dtype));
                sum.Dispose();
            }

            KeypointCheckpoint.Save(output, network, metadata, metadata.Precision);
        }

        Console.WriteLine($"wrote {output}: the mean of {inputs.Count} networks ({metadata.Layout}, {metadata.InputWidth}x{metadata.InputHeight})");
        return 0;
    }

    private static KeypointNetwork LoadLike(string path, string first, ModelMetadata metadata)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var (model, other) = KeypointCheckpoint.Load(path);
            if (other.Layout != metadata.Layout || other.InputWidth != metadata.InputWidth || other.KeypointCount != metadata.KeypointCount)
            {
                model.Dispose();
                throw new ArgumentException($"{path} ({other.Layout}, {other.InputWidth} px, {other.KeypointCount} points) does not match {first} ({metadata.Layout}, {metadata.InputWidth} px, {metadata.KeypointCount} points).");
            }

            return model;
        }

        // A trainer snapshot holds weights only: build the first model's architecture and load them into it.
        var (twin, _) = KeypointCheckpoint.Load(first);
        try
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"{path} does not exist.", path);
            }

            twin.load(path);
            return twin;
        }
        catch
        {
            twin.Dispose();
            throw;
        }
    }
}
