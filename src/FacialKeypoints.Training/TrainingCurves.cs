using System.Globalization;
using SkiaSharp;

namespace FacialKeypoints.Training;

/// <summary>Draws a run's curves as a PNG: training and validation loss (log scale) beside validation NME.</summary>
public static class TrainingCurves
{
    private static readonly SKColor TrainColor = new(31, 119, 180);
    private static readonly SKColor ValidationColor = new(255, 127, 14);
    private static readonly SKColor NmeColor = new(44, 160, 44);

    /// <summary>Writes the figure (atomically). Nothing is written for an empty history.</summary>
    public static void Save(string path, IReadOnlyList<EpochMetrics> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
        {
            return;
        }

        const int width = 1200, height = 450;
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        Panel(
            canvas,
            new SKRect(70, 40, 580, 390),
            "Loss (log scale)",
            epochs,
            [("train", TrainColor, history.Select(h => h.TrainLoss).ToArray()), ("validation", ValidationColor, history.Select(h => h.ValidationLoss).ToArray())],
            logScale: true);
        Panel(
            canvas,
            new SKRect(670, 40, 1180, 390),
            "Validation NME (inter-ocular)",
            epochs,
            [("val NME", NmeColor, history.Select(h => h.ValidationNme).ToArray())],
            logScale: false);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, temporary =>
        {
            using var file = File.Create(temporary);
            png.SaveTo(file);
        });
    }

    private static void Panel(SKCanvas canvas, SKRect area, string title, double[] x, (string Name, SKColor Color, double[] Values)[] series, bool logScale)
    {
        using var font = new SKFont(SKTypeface.Default, 14);
        using var small = new SKFont(SKTypeface.Default, 12);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke };

        double Transform(double v) => logScale ? Math.Log10(Math.Max(v, 1e-12)) : v;
        var all = series.SelectMany(s => s.Values).Where(double.IsFinite).Select(Transform).ToArray();
        double lo = all.Length > 0 ? all.Min() : 0, hi = all.Length > 0 ? all.Max() : 1;
        if (hi - lo < 1e-9)
        {
            lo -= 0.5;
            hi += 0.5;
        }

        double pad = (hi - lo) * 0.05;
        lo -= pad;
        hi += pad;
        double xMin = x.Min(), xMax = Math.Max(x.Max(), x.Min() + 1);
        float Px(double v) => (float)(area.Left + ((v - xMin) / (xMax - xMin) * area.Width));
        float Py(double v) => (float)(area.Bottom - ((Transform(v) - lo) / (hi - lo) * area.Height));

        for (int i = 0; i <= 5; i++)
        {
            double t = lo + ((hi - lo) * i / 5);
            float y = (float)(area.Bottom - (area.Height * i / 5.0));
            canvas.DrawLine(area.Left, y, area.Right, y, grid);
            double label = logScale ? Math.Pow(10, t) : t;
            canvas.DrawText(label.ToString("G3", CultureInfo.InvariantCulture), area.Left - 6, y + 4, SKTextAlign.Right, small, ink);
        }

        foreach (double tick in Ticks(xMin, xMax))
        {
            canvas.DrawText(tick.ToString("0", CultureInfo.InvariantCulture), Px(tick), area.Bottom + 16, SKTextAlign.Center, small, ink);
        }

        canvas.DrawRect(area, axis);
        canvas.DrawText(title, area.MidX, area.Top - 12, SKTextAlign.Center, font, ink);
        canvas.DrawText("epoch", area.MidX, area.Bottom + 36, SKTextAlign.Center, small, ink);

        float legendY = area.Top + 18;
        foreach (var (name, color, values) in series)
        {
            using var line = new SKPaint { Color = color, StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
            (float X, float Y)? last = null;
            for (int i = 0; i < values.Length; i++)
            {
                if (!double.IsFinite(values[i]))
                {
                    continue;
                }

                var point = (Px(x[i]), Py(values[i]));
                if (last is { } from)
                {
                    canvas.DrawLine(from.X, from.Y, point.Item1, point.Item2, line);
                }
                else
                {
                    canvas.DrawCircle(point.Item1, point.Item2, 2, line);
                }

                last = point;
            }
            canvas.DrawLine(area.Right - 130, legendY - 4, area.Right - 105, legendY - 4, line);
            canvas.DrawText(name, area.Right - 98, legendY, SKTextAlign.Left, small, ink);
            legendY += 18;
        }
    }

    private static IEnumerable<double> Ticks(double min, double max)
    {
        double span = max - min;
        double step = span <= 10 ? 1 : span <= 50 ? 5 : span <= 100 ? 10 : Math.Ceiling(span / 10);
        for (double t = Math.Ceiling(min / step) * step; t <= max + 1e-9; t += step)
        {
            yield return t;
        }
    }
}
