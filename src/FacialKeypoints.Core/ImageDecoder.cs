using SkiaSharp;

namespace FacialKeypoints.Core;

/// <summary>
/// Decodes image files by their content, not their extension (every file of the Udacity data is a PNG named
/// <c>.jpg</c>): PNG, JPEG, WebP, BMP and GIF (first frame). Alpha is dropped, grayscale is expanded to RGB,
/// and a JPEG's EXIF orientation is applied so the pixels are upright.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The largest image accepted, in pixels (width * height): 64 megapixels.</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    private static readonly HashSet<SKEncodedImageFormat> Supported =
    [
        SKEncodedImageFormat.Png,
        SKEncodedImageFormat.Jpeg,
        SKEncodedImageFormat.Webp,
        SKEncodedImageFormat.Bmp,
        SKEncodedImageFormat.Gif,
    ];

    /// <summary>Decodes a file.</summary>
    /// <exception cref="ImageDecodeException">The file is missing, empty, not a supported image, truncated or too large.</exception>
    public static RgbImage Decode(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, $"cannot be read: {e.Message}", e);
        }

        return Decode(bytes, path);
    }

    /// <summary>Decodes encoded image bytes; <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="ImageDecodeException">The bytes are empty, not a supported image, truncated or too large.</exception>
    public static RgbImage Decode(byte[] encoded, string source)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ArgumentNullException.ThrowIfNull(source);
        if (encoded.Length == 0)
        {
            throw new ImageDecodeException(source, "is empty (0 bytes)");
        }

        if (PeekPngSize(encoded) is { } declared && (long)declared.Width * declared.Height > MaxPixels)
        {
            throw new ImageDecodeException(source, $"is {declared.Width}x{declared.Height}, more than the {MaxPixels / (1024 * 1024)} megapixels accepted");
        }

        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageDecodeException(source, $"is not a recognised image ({Describe(encoded)}); supported: PNG, JPEG, WebP, BMP, GIF");
        if (!Supported.Contains(codec.EncodedFormat))
        {
            throw new ImageDecodeException(source, $"is a {codec.EncodedFormat} image; supported: PNG, JPEG, WebP, BMP, GIF");
        }

        var size = codec.Info;
        if (size.Width <= 0 || size.Height <= 0)
        {
            throw new ImageDecodeException(source, $"has an invalid size {size.Width}x{size.Height}");
        }

        if ((long)size.Width * size.Height > MaxPixels)
        {
            throw new ImageDecodeException(source, $"is {size.Width}x{size.Height}, more than the {MaxPixels / (1024 * 1024)} megapixels accepted");
        }

        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* pointer = rgba)
            {
                result = codec.GetPixels(info, (IntPtr)pointer);
            }
        }

        if (result is not (SKCodecResult.Success))
        {
            string reason = result == SKCodecResult.IncompleteInput ? "is truncated (incomplete image data)" : $"could not be decoded ({result})";
            throw new ImageDecodeException(source, reason);
        }

        var image = SkiaPixels.FromRgba(rgba, size.Width, size.Height);
        return codec.EncodedFormat == SKEncodedImageFormat.Jpeg ? Orient(image, codec.EncodedOrigin) : image;
    }

    /// <summary>Reads an image's upright size from its header, without decoding the pixels.</summary>
    /// <exception cref="ImageDecodeException">The file is missing or not a supported image.</exception>
    public static (int Width, int Height) ReadSize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var codec = File.Exists(path) ? SKCodec.Create(path) : null;
        if (codec is null)
        {
            throw new ImageDecodeException(path, File.Exists(path) ? "is not a recognised image" : "does not exist");
        }

        var size = codec.Info;
        bool swap = codec.EncodedFormat == SKEncodedImageFormat.Jpeg
            && codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        return swap ? (size.Height, size.Width) : (size.Width, size.Height);
    }

    /// <summary>Applies an EXIF orientation to upright pixels. Internal so tests can check each case.</summary>
    internal static RgbImage Orient(RgbImage image, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or SKEncodedOrigin.Default)
        {
            return image;
        }

        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int w = image.Width, h = image.Height;
        int outW = swap ? h : w, outH = swap ? w : h;
        var result = new RgbImage(outW, outH);
        var src = image.Pixels;
        var dst = result.Pixels;
        for (int y = 0; y < outH; y++)
        {
            for (int x = 0; x < outW; x++)
            {
                // (sx, sy): the stored pixel shown at (x, y) of the upright image.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                int s = ((sy * w) + sx) * 3, d = ((y * outW) + x) * 3;
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }

        return result;
    }

    /// <summary>The size a PNG header declares, so oversized files get a clear error even where Skia refuses them outright.</summary>
    private static (int Width, int Height)? PeekPngSize(byte[] bytes)
    {
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (bytes.Length < 24 || !bytes.AsSpan(0, 8).SequenceEqual(signature) || !bytes.AsSpan(12, 4).SequenceEqual("IHDR"u8))
        {
            return null;
        }

        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    private static string Describe(byte[] bytes)
    {
        int n = Math.Min(8, bytes.Length);
        return $"{bytes.Length} bytes starting {Convert.ToHexString(bytes, 0, n)}";
    }
}

/// <summary>Thrown when an image cannot be decoded; names the file and the problem.</summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ImageDecodeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ImageDecodeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ImageDecodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a file and what is wrong with it.</summary>
    public ImageDecodeException(string source, string problem, Exception? innerException = null)
        : base($"Image '{source}' {problem}.", innerException)
    {
        FilePath = source;
    }

    /// <summary>The file (or other source) that failed.</summary>
    public string? FilePath { get; }
}
