namespace FacialKeypoints.Core;

/// <summary>
/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B. The library's own image type, so that
/// no imaging library's types appear in the public API.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Wraps pixel data (not copied).</summary>
    /// <exception cref="ArgumentException">The buffer does not hold exactly width * height * 3 bytes.</exception>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * 3)
        {
            throw new ArgumentException($"Expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {pixels.Length}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Creates a black image.</summary>
    public RgbImage(int width, int height)
        : this(width, height, new byte[checked(width * height * 3)])
    {
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels: <c>Pixels[((y * Width) + x) * 3 + c]</c>, c = 0 (R), 1 (G), 2 (B).</summary>
#pragma warning disable CA1819 // A raw buffer is the point of this type.
    public byte[] Pixels { get; }
#pragma warning restore CA1819

    /// <summary>Reads one channel of one pixel.</summary>
    public byte this[int x, int y, int channel] => Pixels[(((y * Width) + x) * 3) + channel];

    /// <summary>A deep copy.</summary>
    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());
}
