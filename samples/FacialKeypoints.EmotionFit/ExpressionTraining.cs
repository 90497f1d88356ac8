namespace FacialKeypoints.EmotionFit;

/// <summary>Training, evaluation and export of the ten-logit expression network (issue 11).</summary>
internal static class ExpressionTraining
{
    public static int Run(IReadOnlyDictionary<string, string> settings, List<ExpressionItem> items, Action<string> log)
    {
        _ = settings;
        _ = items;
        log("nothing to do");
        return 2;
    }
}
