using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Core;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.EmotionFit;

/// <summary>
/// The expression classifier's data commands (issue 11): landmark caching for the fetched sets, and galleries to check
/// the landmarks by eye.
/// </summary>
internal static class ExpressionCommands
{
    /// <summary>Runs the command <paramref name="settings"/> asks for (<see cref="EmotionFitSettings.IsExpressionCommand"/>).</summary>
    public static int Run(EmotionFitSettings settings, string dataRoot)
    {
        var clock = Stopwatch.StartNew();
        void Log(string message) => Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {message}");
        string root = settings.ExpressionData ?? Environment.GetEnvironmentVariable("FKP_EXPRESSION_DATA") ?? "/work/data-extra/expression";
        var items = ExpressionSources.Load(
            root,
            Path.Combine(dataRoot, "expression-labels", "training_expression_labels.csv"),
            Path.Combine(dataRoot, "facial-keypoints", "training"));
        Log($"{items.Count} labelled faces: {string.Join(", ", items.GroupBy(i => i.Source).Select(g => $"{g.Key} {g.Count()}"))}");
        string? modelPath = settings.KeypointModelPath;

        if (settings.LandmarkGallery is { } galleryPath)
        {
            int perSource = settings.PerSource;
            var picked = items.GroupBy(i => i.Source).SelectMany(g => g.OrderBy(i => StableHash(i.Path)).Take(perSource)).ToList();
            using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath, FlipAverage = false });
            var tiles = new List<GalleryTile>();
            foreach (var item in picked)
            {
                var (image, _, _, _) = ExpressionSources.Prepare(item, settings);
                var points = predictor.Predict(image).Keypoints;
                tiles.Add(new GalleryTile(image, [new KeypointLayer(points, OverlayColor.Prediction)], $"{item.Source} {Path.GetFileName(item.Path)}"));
            }

            KeypointOverlay.SavePng(KeypointOverlay.Gallery(tiles, perSource, 160), galleryPath);
            Log($"wrote {galleryPath}");
            return 0;
        }

        if (settings.CacheLandmarks is { } csvPath)
        {
            // Most useful first, so that training can start on a partial cache: ours, Taiwanese, FER test, the rarer
            // muxspace classes and 2,000 each of its happy and neutral faces, FER train and val, the rest.
            int Priority(ExpressionItem i) => i.Source switch
            {
                "ours" => 0,
                "taiwanese" => 1,
                "fer" when i.Split == "test" => 2,
                "muxspace" when i.Emotion is not (3 or 6) => 3,
                "muxspace" when StableHash(i.Path) % 1000 < 320 => 3,
                "fer" when i.Split == "train" => 4,
                "fer" => 5,
                _ => 6,
            };
            var ordered = items.OrderBy(Priority).ThenBy(i => StableHash(i.Path)).ToList();
            ExpressionSources.CacheLandmarks(ordered, csvPath, modelPath, settings, Log);
            return 0;
        }

        return ExpressionTraining.Run(settings, items, Log);
    }

    /// <summary>A hash of a string that does not change between runs (string.GetHashCode does).</summary>
    public static uint StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}
