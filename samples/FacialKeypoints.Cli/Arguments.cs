namespace FacialKeypoints.Cli;

/// <summary>A small argument parser: positional values, <c>--name value</c> options and <c>--flag</c> switches.</summary>
internal sealed class Arguments
{
    /// <summary>The keypoint data folder when <c>--data</c> is not given: <c>$FKP_DATA/facial-keypoints</c>, else <c>../shared/data/facial-keypoints</c>.</summary>
    public static string DefaultData => Environment.GetEnvironmentVariable("FKP_DATA") is { Length: > 0 } root
        ? Path.Combine(root, "facial-keypoints")
        : "../shared/data/facial-keypoints";

    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    public Arguments(IEnumerable<string> args, IEnumerable<string> flags)
    {
        var flagSet = flags.ToHashSet(StringComparer.Ordinal);
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string arg = e.Current;
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (flagSet.Contains(arg))
                {
                    options[arg] = null;
                    continue;
                }

                options[arg] = e.MoveNext() ? e.Current : throw new ArgumentException($"Option {arg} needs a value.");
            }
            else
            {
                Positional.Add(arg);
            }
        }
    }

    public List<string> Positional { get; } = [];

    public string? Option(string name)
    {
        used.Add(name);
        return options.GetValueOrDefault(name);
    }

    public bool Flag(string name)
    {
        used.Add(name);
        return options.ContainsKey(name);
    }

    /// <summary>Throws for options the command did not ask for, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = options.Keys.Where(k => !used.Contains(k)).ToArray();
        if (unknown.Length > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown)}.");
        }
    }
}
