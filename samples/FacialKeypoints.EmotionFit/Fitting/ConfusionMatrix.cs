using System.Globalization;
using System.Text;
using FacialKeypoints.Emotion;

namespace FacialKeypoints.EmotionFit.Fitting;

/// <summary>Counts of (actual, predicted) expression labels, with accuracy and per-class precision, recall and F1.</summary>
internal sealed class ConfusionMatrix
{
    private readonly int[,] counts = new int[ExpressionLabels.Count, ExpressionLabels.Count];

    /// <summary>The number of scored faces.</summary>
    public int Total { get; private set; }

    /// <summary>How many faces of class <paramref name="actual"/> were called <paramref name="predicted"/>.</summary>
    /// <param name="actual">The true label.</param>
    /// <param name="predicted">The predicted label.</param>
    public int this[ExpressionLabel actual, ExpressionLabel predicted] => counts[(int)actual, (int)predicted];

    /// <summary>Adds one face.</summary>
    /// <param name="actual">The true label.</param>
    /// <param name="predicted">The predicted label.</param>
    public void Add(ExpressionLabel actual, ExpressionLabel predicted)
    {
        counts[(int)actual, (int)predicted]++;
        Total++;
    }

    /// <summary>Builds a matrix from paired labels.</summary>
    /// <param name="actual">True labels.</param>
    /// <param name="predicted">Predicted labels, same length.</param>
    /// <returns>The matrix.</returns>
    public static ConfusionMatrix From(IReadOnlyList<ExpressionLabel> actual, IReadOnlyList<ExpressionLabel> predicted)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.Count != predicted.Count)
        {
            throw new ArgumentException($"{actual.Count} true labels but {predicted.Count} predictions.");
        }

        var matrix = new ConfusionMatrix();
        for (int i = 0; i < actual.Count; i++)
        {
            matrix.Add(actual[i], predicted[i]);
        }

        return matrix;
    }

    /// <summary>The fraction of faces labelled correctly (0 when empty).</summary>
    public double Accuracy => Total == 0 ? 0 : (double)ExpressionLabels.All.Sum(l => this[l, l]) / Total;

    /// <summary>How many faces truly are <paramref name="label"/>.</summary>
    /// <param name="label">The class.</param>
    /// <returns>The row sum.</returns>
    public int Support(ExpressionLabel label) => ExpressionLabels.All.Sum(p => this[label, p]);

    /// <summary>Of the faces called <paramref name="label"/>, the fraction that are (0 when none were called so).</summary>
    /// <param name="label">The class.</param>
    /// <returns>The precision.</returns>
    public double Precision(ExpressionLabel label)
    {
        int called = ExpressionLabels.All.Sum(a => this[a, label]);
        return called == 0 ? 0 : (double)this[label, label] / called;
    }

    /// <summary>Of the faces that are <paramref name="label"/>, the fraction called so (0 when there are none).</summary>
    /// <param name="label">The class.</param>
    /// <returns>The recall.</returns>
    public double Recall(ExpressionLabel label)
    {
        int support = Support(label);
        return support == 0 ? 0 : (double)this[label, label] / support;
    }

    /// <summary>The harmonic mean of precision and recall (0 when both are 0).</summary>
    /// <param name="label">The class.</param>
    /// <returns>The F1 score.</returns>
    public double F1(ExpressionLabel label)
    {
        double p = Precision(label), r = Recall(label);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /// <summary>The unweighted mean F1 over the classes that occur.</summary>
    public double MacroF1
    {
        get
        {
            var present = ExpressionLabels.All.Where(l => Support(l) > 0).ToList();
            return present.Count == 0 ? 0 : present.Average(F1);
        }
    }

    /// <summary>Markdown tables: the matrix (rows actual, columns predicted), then precision, recall and F1 per class.</summary>
    /// <returns>The text.</returns>
    public string ToMarkdown()
    {
        var ci = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| actual \\ predicted | neutral | positive | negative | total |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var a in ExpressionLabels.All)
        {
            text.AppendLine(ci, $"| {a.ToName()} | {this[a, ExpressionLabel.Neutral]} | {this[a, ExpressionLabel.Positive]} | {this[a, ExpressionLabel.Negative]} | {Support(a)} |");
        }

        text.AppendLine();
        text.AppendLine("| class | precision | recall | F1 | support |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var l in ExpressionLabels.All)
        {
            text.AppendLine(ci, $"| {l.ToName()} | {Precision(l):0.000} | {Recall(l):0.000} | {F1(l):0.000} | {Support(l)} |");
        }

        text.AppendLine();
        text.AppendLine(ci, $"Accuracy {Accuracy:0.000} ({ExpressionLabels.All.Sum(l => this[l, l])}/{Total}), macro F1 {MacroF1:0.000}.");
        return text.ToString();
    }

    /// <summary>One line: accuracy, positive F1, negative F1.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"accuracy {Accuracy:0.000}, positive F1 {F1(ExpressionLabel.Positive):0.000} (P {Precision(ExpressionLabel.Positive):0.000} R {Recall(ExpressionLabel.Positive):0.000}), negative F1 {F1(ExpressionLabel.Negative):0.000}, n={Total}");
}
