namespace FacialKeypoints.Core;

/// <summary>Conversions between <see cref="RgbImage"/> and the RGBA buffers SkiaSharp reads and writes.</summary>
internal static class SkiaPixels
{
    /// <summary>RGB to opaque RGBA.</summary>
    public static byte[] ToRgba(RgbImage image)
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

    /// <summary>RGBA to RGB, dropping alpha.</summary>
    public static RgbImage FromRgba(byte[] rgba, int width, int height)
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
