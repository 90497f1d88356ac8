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
        var rgba = SkiaPixels.ToRgba(source);
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

        return SkiaPixels.FromRgba(output, width, height);
    }
}
