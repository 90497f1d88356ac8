using SkiaSharp;

namespace FacialKeypoints.Core;

/// <summary>
/// The library's one resampler: bilinear sampling with linear mipmaps (so a strong downscale, a 500 px face to
/// 128 px, does not alias), through a 2x3 affine map from source to output coordinates in pixel-edge
/// coordinates (the top-left pixel covers [0, 1) x [0, 1)). Areas mapped from outside the source are black.
/// Training transforms and the inference pipeline both crop through it, so a network sees the same pixels in
/// both.
/// </summary>
public static class ImageWarp
{
    /// <summary>Resamples <paramref name="source"/> onto a <paramref name="width"/> x <paramref name="height"/> output.</summary>
    /// <param name="source">The image to sample.</param>
    /// <param name="width">Output width in pixels.</param>
    /// <param name="height">Output height in pixels.</param>
    /// <param name="map">Source-to-output map.</param>
    /// <returns>The resampled image.</returns>
    public static RgbImage Warp(RgbImage source, int width, int height, AffineMatrix map)
    {
        using var prepared = new WarpSource(source);
        return prepared.Warp(width, height, map);
    }
}

/// <summary>
/// An image prepared once for several crops (the faces of one frame): the pixel conversion and the mipmaps are
/// made once, not per crop. Each <see cref="Warp"/> call is independent; an instance is safe to use from
/// several threads at once. Dispose it to free the native image.
/// </summary>
public sealed class WarpSource : IDisposable
{
    private static readonly SKSamplingOptions Sampling = new(SKFilterMode.Linear, SKMipmapMode.Linear);
    private readonly SKImage image;

    /// <summary>Prepares <paramref name="source"/> (its pixels are copied).</summary>
    /// <param name="source">The image.</param>
    public WarpSource(RgbImage source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Width = source.Width;
        Height = source.Height;
        var info = new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        image = SKImage.FromPixelCopy(info, SkiaPixels.ToRgba(source));
    }

    /// <summary>Source width in pixels.</summary>
    public int Width { get; }

    /// <summary>Source height in pixels.</summary>
    public int Height { get; }

    /// <summary>Resamples onto a <paramref name="width"/> x <paramref name="height"/> output through <paramref name="map"/>.</summary>
    /// <param name="width">Output width in pixels.</param>
    /// <param name="height">Output height in pixels.</param>
    /// <param name="map">Source-to-output map (pixel-edge coordinates).</param>
    /// <returns>The resampled image.</returns>
    public RgbImage Warp(int width, int height, AffineMatrix map)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
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
                using var paint = new SKPaint();
                canvas.DrawImage(image, 0, 0, Sampling, paint);
                canvas.Flush();
            }
        }

        return SkiaPixels.FromRgba(output, width, height);
    }

    /// <inheritdoc/>
    public void Dispose() => image.Dispose();
}
