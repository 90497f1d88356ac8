using System.Globalization;

namespace FacialKeypoints.Core;

/// <summary>The three expression classes. The numeric values are the class indices of every model and matrix.</summary>
public enum ExpressionLabel
{
    /// <summary>No clear positive or negative affect, including talking with a non-smiling mouth.</summary>
    Neutral = 0,

    /// <summary>A visible smile or laugh.</summary>
    Positive = 1,

    /// <summary>A clearly negative affect: frown, grimace, disgust, sadness.</summary>
    Negative = 2,
}

/// <summary>Conversions between <see cref="ExpressionLabel"/> and the lower-case names used in CSV files.</summary>
public static class ExpressionLabels
{
    /// <summary>The number of classes.</summary>
    public const int Count = 3;

    /// <summary>The label name for images that could not be judged; such rows are excluded from fitting and scoring.</summary>
    public const string UnclearName = "unclear";

    /// <summary>All labels in class-index order.</summary>
    public static IReadOnlyList<ExpressionLabel> All { get; } = [ExpressionLabel.Neutral, ExpressionLabel.Positive, ExpressionLabel.Negative];

    /// <summary>The lower-case CSV name of a label: <c>neutral</c>, <c>positive</c> or <c>negative</c>.</summary>
    /// <param name="label">The label.</param>
    /// <returns>The name.</returns>
    public static string ToName(this ExpressionLabel label) => label switch
    {
        ExpressionLabel.Neutral => "neutral",
        ExpressionLabel.Positive => "positive",
        ExpressionLabel.Negative => "negative",
        _ => throw new ArgumentOutOfRangeException(nameof(label), label, "Unknown expression label."),
    };

    /// <summary>Parses a CSV name, case-insensitively; <c>unclear</c> gives null.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The label, or null for <c>unclear</c>.</returns>
    /// <exception cref="FormatException">The name is not a known label.</exception>
    public static ExpressionLabel? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLower(CultureInfo.InvariantCulture) switch
        {
            "neutral" => ExpressionLabel.Neutral,
            "positive" => ExpressionLabel.Positive,
            "negative" => ExpressionLabel.Negative,
            UnclearName => null,
            _ => throw new FormatException($"'{name}' is not an expression label; expected positive, neutral, negative or unclear."),
        };
    }
}

/// <summary>
/// The seven basic emotions of FER2013 and face-api.js, in FER2013's class order. Reported beside the three
/// <see cref="ExpressionLabel"/> classes.
/// </summary>
public enum BasicEmotion
{
    /// <summary>Anger.</summary>
    Angry = 0,

    /// <summary>Disgust.</summary>
    Disgust = 1,

    /// <summary>Fear.</summary>
    Fear = 2,

    /// <summary>Happiness.</summary>
    Happy = 3,

    /// <summary>Sadness.</summary>
    Sad = 4,

    /// <summary>Surprise.</summary>
    Surprise = 5,

    /// <summary>No emotion shown.</summary>
    Neutral = 6,
}
