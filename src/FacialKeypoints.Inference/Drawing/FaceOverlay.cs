using System.Globalization;
using SkiaSharp;

namespace FacialKeypoints.Inference.Drawing;

/// <summary>
/// Draws what the pipeline found: each face's box, its landmarks with the scheme's regions as polylines (eyes and
/// lips closed), and its expression as a tag over the box, coloured by class (positive green, neutral white,
/// negative red). Stateless and thread-safe.
/// </summary>
public static class FaceOverlay
{
    /// <summary>Draws <paramref name="faces"/> on a copy of <paramref name="image"/>.</summary>
    /// <param name="image">The picture the faces were found in.</param>
    /// <param name="faces">The faces.</param>
    /// <param name="scheme">The landmark scheme (regions to join); iBUG-68 when null.</param>
    /// <returns>The annotated copy, the size of the input.</returns>
    public static RgbImage Draw(RgbImage image, IReadOnlyList<FaceResult> faces, LandmarkScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(faces);
        scheme ??= LandmarkScheme.Ibug68;
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var rgba = SkiaPixels.ToRgba(image);
        unsafe
        {
            fixed (byte* pointer = rgba)
            {
                using var surface = SKSurface.Create(info, (IntPtr)pointer, info.RowBytes);
                foreach (var face in faces)
                {
                    DrawFace(surface.Canvas, face, scheme);
                }

                surface.Canvas.Flush();
            }
        }

        return SkiaPixels.FromRgba(rgba, image.Width, image.Height);
    }

    private static void DrawFace(SKCanvas canvas, FaceResult face, LandmarkScheme scheme)
    {
        float size = Math.Max(face.Box.Width, face.Box.Height);
        float stroke = Math.Clamp(size / 120f, 1f, 4f);
        var colour = face.Expression?.Label switch
        {
            ExpressionLabel.Positive => new SKColor(60, 220, 90),
            ExpressionLabel.Negative => new SKColor(235, 60, 60),
            _ => new SKColor(240, 240, 240),
        };
        using var box = new SKPaint { Color = colour, Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
        canvas.DrawRect(face.Box.X, face.Box.Y, face.Box.Width, face.Box.Height, box);

        using var line = new SKPaint { Color = new SKColor(0, 200, 255), Style = SKPaintStyle.Stroke, StrokeWidth = stroke * 0.75f, IsAntialias = true };
        using var dot = new SKPaint { Color = new SKColor(255, 220, 0), Style = SKPaintStyle.Fill, IsAntialias = true };
        var k = face.Landmarks;
        SKPoint P(int i) => new(k[2 * i] + 0.5f, k[(2 * i) + 1] + 0.5f);
        foreach (var (name, range) in scheme.Regions)
        {
            var (offset, length) = range.GetOffsetAndLength(scheme.Count);
            if (name == "mouth" || length < 2)
            {
                continue; // "mouth" spans both lip regions, which are drawn on their own.
            }

            for (int i = offset; i < offset + length - 1; i++)
            {
                canvas.DrawLine(P(i), P(i + 1), line);
            }

            if (name.EndsWith("_eye", StringComparison.Ordinal) || name.EndsWith("_lip", StringComparison.Ordinal))
            {
                canvas.DrawLine(P(offset + length - 1), P(offset), line);
            }
        }

        for (int i = 0; i < k.Length / 2; i++)
        {
            canvas.DrawCircle(P(i), stroke, dot);
        }

        if (face.Expression is { } expression)
        {
            string text = string.Create(CultureInfo.InvariantCulture, $"{expression.Label.ToName()} {expression.ProbabilityOf(expression.Label):0.00} · {expression.Emotion.ToString().ToLowerInvariant()}");
            using var font = new SKFont(SKTypeface.Default, Math.Clamp(size / 9f, 11f, 28f));
            float width = font.MeasureText(text);
            float top = Math.Max(0, face.Box.Y - font.Size - 6);
            using var fill = new SKPaint { Color = colour.WithAlpha(200), Style = SKPaintStyle.Fill };
            canvas.DrawRect(face.Box.X, top, width + 8, font.Size + 6, fill);
            using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            canvas.DrawText(text, face.Box.X + 4, top + font.Size, SKTextAlign.Left, font, ink);
        }
    }
}
