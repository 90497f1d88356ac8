using System.CommandLine;

namespace FacialKeypoints.Samples;

/// <summary>
/// An option taking one member of an enum, typed by name (lower case by default); help lists the choices and the
/// default (<c>--precision &lt;int8|float32&gt;  ... [default: int8]</c>), completion offers them, and a wrong value is
/// an error that names the option and the choices. Shared by the sample command lines (fkp, EmotionFit, the trainer).
/// </summary>
/// <typeparam name="T">The enum.</typeparam>
internal sealed class ChoiceOption<T> : Option<T>
    where T : struct, Enum
{
    /// <summary>Creates the option; each member is typed as its name in lower case.</summary>
    /// <param name="name">The option's name.</param>
    /// <param name="description">What it chooses.</param>
    /// <param name="defaultValue">The value when the option is not given (shown in the help).</param>
    /// <param name="allowed">The members accepted; all when empty.</param>
    public ChoiceOption(string name, string description, T defaultValue, T[] allowed)
        : this(name, description, defaultValue, allowed, Lower)
    {
    }

    /// <summary>Creates the option with the names the command line types for the members.</summary>
    /// <param name="name">The option's name.</param>
    /// <param name="description">What it chooses.</param>
    /// <param name="defaultValue">The value when the option is not given (shown in the help).</param>
    /// <param name="allowed">The members accepted; all when empty.</param>
    /// <param name="nameOf">The typed name of a member (matched ignoring case).</param>
    public ChoiceOption(string name, string description, T defaultValue, T[] allowed, Func<T, string> nameOf)
        : base(name)
    {
        T[] values = allowed.Length > 0 ? allowed : Enum.GetValues<T>();
        string[] names = [.. values.Select(nameOf)];
        string list = names.Length == 1 ? names[0] : $"{string.Join(", ", names[..^1])} or {names[^1]}";
        Default = defaultValue;
        Description = $"{description} [default: {nameOf(defaultValue)}]";
        HelpName = string.Join('|', names);
        CustomParser = result =>
        {
            string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            int index = Array.FindIndex(names, n => n.Equals(token, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                return values[index];
            }

            result.AddError($"{name} must be {list}, not '{token}'.");
            return defaultValue;
        };
        CompletionSources.Clear(); // the enum's own names (Int8) would come back beside the typed ones (int8)
        CompletionSources.Add(names);
    }

    /// <summary>The value when the option is not given.</summary>
    public T Default { get; }

    /// <summary>The value given, or <see cref="Default"/>.</summary>
    public T Get(ParseResult parse) => parse.GetResult(this) is { Implicit: false } ? parse.GetValue(this) : Default;

    private static string Lower(T value) => value.ToString().ToLowerInvariant();
}

/// <summary>"Did you mean": the known option nearest to a mistyped one.</summary>
internal static class OptionSuggestions
{
    /// <summary>The long option name (<c>--name</c>) nearest to <paramref name="unknown"/>, at most 3 edits away, or null.</summary>
    public static string? Nearest(string unknown, IEnumerable<Option> options) => options
        .SelectMany(o => o.Aliases.Prepend(o.Name))
        .Where(n => n.StartsWith("--", StringComparison.Ordinal))
        .Select(n => (Name: n, Distance: EditDistance(unknown, n)))
        .Where(c => c.Distance <= 3)
        .OrderBy(c => c.Distance)
        .Select(c => c.Name)
        .FirstOrDefault();

    /// <summary>The Levenshtein distance (insertions, deletions and substitutions) between two strings.</summary>
    public static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
