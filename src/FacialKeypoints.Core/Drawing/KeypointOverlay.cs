using SkiaSharp;

namespace FacialKeypoints.Core.Drawing;

/// <summary>An RGB colour for overlays.</summary>
/// <param name="R">Red.</param>
/// <param name="G">Green.</param>
/// <param name="B">Blue.</param>
public readonly record struct OverlayColor(byte R, byte G, byte B)
{
    /// <summary>Green, for ground truth.</summary>
    public static OverlayColor Truth => new(40, 200, 60);

    /// <summary>Magenta, for predictions.</summary>
    public static OverlayColor Prediction => new(230, 40, 200);
}

/// <summary>A set of keypoints to draw, with its colour.</summary>
/// <param name="Keypoints">Flat keypoints in the image's pixels.</param>
/// <param name="Color">Dot colour.</param>
public sealed record KeypointLayer(float[] Keypoints, OverlayColor Color);

/// <summary>One tile of a gallery: an image, its keypoint layers and a caption.</summary>
/// <param name="Image">The picture.</param>
/// <param name="Layers">Keypoints to draw on it.</param>
/// <param name="Caption">Text under the picture.</param>
internal sealed record GalleryTile(RgbImage Image, IReadOnlyList<KeypointLayer> Layers, string Caption);

/// <summary>Draws keypoints on images and writes PNG files, for annotated predictions and galleries.</summary>
public static class KeypointOverlay
{
    /// <summary>Draws dots (and the scheme's regions as lines, when given) on a copy of the image, scaled by <paramref name="scale"/>.</summary>
    public static RgbImage Draw(RgbImage image, IEnumerable<KeypointLayer> layers, LandmarkScheme? scheme = null, float scale = 1f)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layers);
        int width = Math.Max(1, (int)Math.Round(image.Width * scale)), height = Math.Max(1, (int)Math.Round(image.Height * scale));
        using var bitmap = ToBitmap(image);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        using (var source = SKImage.FromBitmap(bitmap))
        {
            canvas.DrawImage(source, new SKRect(0, 0, width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        }

        float radius = Math.Max(1.5f, Math.Min(width, height) / 110f);
        foreach (var layer in layers)
        {
            using var paint = new SKPaint { Color = new SKColor(layer.Color.R, layer.Color.G, layer.Color.B), IsAntialias = true, StrokeWidth = Math.Max(1, radius * 0.6f) };
            var k = layer.Keypoints;
            float X(int i) => (k[2 * i] + 0.5f) * scale;
            float Y(int i) => (k[(2 * i) + 1] + 0.5f) * scale;
            if (scheme is not null && k.Length == scheme.ValueCount)
            {
                foreach (var (name, range) in scheme.Regions)
                {
                    if (name == "mouth")
                    {
                        continue;
                    }

                    var (offset, length) = range.GetOffsetAndLength(scheme.Count);
                    for (int i = offset; i < offset + length - 1; i++)
                    {
                        canvas.DrawLine(X(i), Y(i), X(i + 1), Y(i + 1), paint);
                    }
                }
            }

            for (int i = 0; i < k.Length / 2; i++)
            {
                canvas.DrawCircle(X(i), Y(i), radius, paint);
            }
        }

        return ReadBack(surface, width, height);
    }

    /// <summary>Lays tiles out in a grid with captions.</summary>
    internal static RgbImage Gallery(IReadOnlyList<GalleryTile> tiles, int columns, int tileSize = 224, LandmarkScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        const int captionHeight = 36;
        int rows = Math.Max(1, (tiles.Count + columns - 1) / columns);
        int width = columns * tileSize, height = rows * (tileSize + captionHeight);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 11);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int t = 0; t < tiles.Count; t++)
        {
            var tile = tiles[t];
            float scale = (float)tileSize / Math.Max(tile.Image.Width, tile.Image.Height);
            var drawn = Draw(tile.Image, tile.Layers, scheme, scale);
            using var bitmap = ToBitmap(drawn);
            using var image = SKImage.FromBitmap(bitmap);
            float x = t % columns * tileSize, y = t / columns * (tileSize + captionHeight);
            canvas.DrawImage(image, x + ((tileSize - drawn.Width) / 2f), y + ((tileSize - drawn.Height) / 2f), SKSamplingOptions.Default);
            var lines = tile.Caption.Split('\n');
            for (int l = 0; l < Math.Min(2, lines.Length); l++)
            {
                canvas.DrawText(lines[l], x + (tileSize / 2f), y + tileSize + 14 + (l * 14), SKTextAlign.Center, font, ink);
            }
        }

        return ReadBack(surface, width, height);
    }

    /// <summary>Writes an image as PNG, atomically.</summary>
    public static void SavePng(RgbImage image, string path)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(path);
        using var bitmap = ToBitmap(image);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temporary = full + ".tmp";
        using (var file = File.Create(temporary))
        {
            data.SaveTo(file);
        }

        File.Move(temporary, full, overwrite: true);
    }

    private static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var rgba = SkiaPixels.ToRgba(image);
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    private static RgbImage ReadBack(SKSurface surface, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var rgba = new byte[info.BytesSize];
        unsafe
        {
            fixed (byte* pointer = rgba)
            {
                surface.ReadPixels(info, (IntPtr)pointer, info.RowBytes, 0, 0);
            }
        }

        return SkiaPixels.FromRgba(rgba, width, height);
    }
}
