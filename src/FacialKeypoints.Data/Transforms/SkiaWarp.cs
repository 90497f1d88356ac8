using SkiaSharp;

namespace FacialKeypoints.Data.Transforms;

/// <summary>Resampling with SkiaSharp; internal so Skia types stay out of the public API.</summary>
internal static class SkiaWarp
{
    /// <summary>
    /// Resamples <paramref name="source"/> onto an output of the given size through a 2x3 affine map from
    /// source to output coordinates (pixel-edge coordinates: the top-left pixel covers [0, 1) x [0, 1)).
    /// Areas mapped from outside the source are black.
    /// </summary>
    public static RgbImage Warp(RgbImage source, int width, int height, AffineMatrix map)
    {
        var sourceInfo = new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var rgba = ToRgba(source);
        using var image = SKImage.FromPixelCopy(sourceInfo, rgba);
        var targetInfo = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var output = new byte[targetInfo.BytesSize];
        unsafe
        {
            fixed (byte* pointer = output)
            {
                using var surface = SKSurface.Create(targetInfo, (IntPtr)pointer, targetInfo.RowBytes);
                var canvas = surface.Canvas;
                canvas.Clear(SKColors.Black);
                var matrix = new SKMatrix(map.A, map.B, map.C, map.D, map.E, map.F, 0, 0, 1);
                canvas.SetMatrix(in matrix);

                // Mipmaps keep strong downscaling (a 494 px face to 128 px) free of aliasing.
                using var paint = new SKPaint();
                canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear), paint);
                canvas.Flush();
            }
        }

        return FromRgba(output, width, height);
    }

    private static byte[] ToRgba(RgbImage image)
    {
        var src = image.Pixels;
        var rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; i < src.Length; i += 3, j += 4)
        {
            rgba[j] = src[i];
            rgba[j + 1] = src[i + 1];
            rgba[j + 2] = src[i + 2];
            rgba[j + 3] = 255;
        }

        return rgba;
    }

    private static RgbImage FromRgba(byte[] rgba, int width, int height)
    {
        var rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }

        return new RgbImage(width, height, rgb);
    }
}
