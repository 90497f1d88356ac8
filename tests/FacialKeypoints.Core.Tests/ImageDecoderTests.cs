using System.Buffers.Binary;
using SkiaSharp;

namespace FacialKeypoints.Core.Tests;

public sealed class ImageDecoderTests
{
    private static byte[] Encode(SKEncodedImageFormat format, SKColorType colorType = SKColorType.Rgba8888, int width = 32, int height = 24)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, colorType, SKAlphaType.Premul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, x < width / 2 ? new SKColor(250, 10, 10) : new SKColor(10, (byte)(8 * y), 200));
            }
        }

        using var data = bitmap.Encode(format, 100);
        return data.ToArray();
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Webp)]
    public void Decode_SupportedFormats_GiveRgbPixels(SKEncodedImageFormat format)
    {
        var image = ImageDecoder.Decode(Encode(format), "x");
        image.Width.Should().Be(32);
        image.Height.Should().Be(24);
        image.Pixels.Should().HaveCount(32 * 24 * 3);
        // Left half red, right half blue (JPEG is lossy: wide tolerance).
        ((int)image[2, 2, 0]).Should().BeGreaterThan(200);
        ((int)image[2, 2, 2]).Should().BeLessThan(60);
        ((int)image[29, 20, 2]).Should().BeGreaterThan(150);
    }

    [Fact]
    public void Decode_ByContent_IgnoresExtension()
    {
        string path = Path.Combine(FacialKeypoints.Tests.TestEnvironment.NewTempDirectory(), "really_a_png.jpg");
        File.WriteAllBytes(path, Encode(SKEncodedImageFormat.Png));
        ImageDecoder.Decode(path).Width.Should().Be(32);
        ImageDecoder.ReadSize(path).Should().Be((32, 24));
    }

    [Fact]
    public void Decode_Bmp_Works() => ImageDecoder.Decode(MinimalBmp(), "x.bmp")[0, 0, 0].Should().Be(255);

    [Fact]
    public void Decode_Gif_Works()
    {
        // A 1x1 GIF with a single white pixel.
        byte[] gif = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=");
        var image = ImageDecoder.Decode(gif, "x.gif");
        image.Width.Should().Be(1);
        image[0, 0, 0].Should().Be(255);
    }

    [Fact]
    public void Decode_GrayscalePng_ExpandsToRgb()
    {
        var image = ImageDecoder.Decode(Encode(SKEncodedImageFormat.Png, SKColorType.Gray8), "gray.png");
        image.Pixels.Should().HaveCount(32 * 24 * 3);
        image[3, 2, 0].Should().Be(image[3, 2, 1]).And.Be(image[3, 2, 2]);
    }

    [Fact]
    public void Decode_Empty_NamesFile() =>
        FluentActions.Invoking(() => ImageDecoder.Decode([], "empty.jpg")).Should().Throw<ImageDecodeException>()
            .WithMessage("Image 'empty.jpg' is empty (0 bytes).").Which.FilePath.Should().Be("empty.jpg");

    [Fact]
    public void Decode_NotAnImage_NamesFile() =>
        FluentActions.Invoking(() => ImageDecoder.Decode("hello, world"u8.ToArray(), "notes.jpg")).Should().Throw<ImageDecodeException>()
            .WithMessage("Image 'notes.jpg' is not a recognised image*");

    [Fact]
    public void Decode_Truncated_NamesFile()
    {
        var png = Encode(SKEncodedImageFormat.Png, width: 64, height: 64);
        FluentActions.Invoking(() => ImageDecoder.Decode(png[..(png.Length / 2)], "cut.png")).Should().Throw<ImageDecodeException>()
            .WithMessage("Image 'cut.png' *");
    }

    [Fact]
    public void Decode_AbsurdlyLarge_IsRefusedBeforeDecoding()
    {
        FluentActions.Invoking(() => ImageDecoder.Decode(PngHeader(100_000, 100_000), "huge.png")).Should().Throw<ImageDecodeException>()
            .WithMessage("Image 'huge.png' is 100000x100000, more than*");
    }

    [Fact]
    public void Decode_MissingFile_NamesFile() =>
        FluentActions.Invoking(() => ImageDecoder.Decode("/no/such/face.jpg")).Should().Throw<ImageDecodeException>().WithMessage("Image '/no/such/face.jpg' cannot be read*");

    [Theory]
    [InlineData(SKEncodedOrigin.TopRight, 2, 0)]
    [InlineData(SKEncodedOrigin.BottomRight, 2, 1)]
    [InlineData(SKEncodedOrigin.BottomLeft, 0, 1)]
    [InlineData(SKEncodedOrigin.LeftTop, 0, 0)]
    [InlineData(SKEncodedOrigin.RightTop, 1, 0)]
    [InlineData(SKEncodedOrigin.RightBottom, 1, 2)]
    [InlineData(SKEncodedOrigin.LeftBottom, 0, 2)]
    public void Orient_MovesStoredTopLeftPixelWhereExifSays(SKEncodedOrigin origin, int x, int y)
    {
        // A stored 3x2 image with a marked top-left pixel.
        var stored = new RgbImage(3, 2);
        stored.Pixels[0] = 255;
        var upright = ImageDecoder.Orient(stored, origin);
        bool swapped = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        upright.Width.Should().Be(swapped ? 2 : 3);
        upright[x, y, 0].Should().Be(255);
        upright.Pixels.Count(v => v == 255).Should().Be(1);
    }

    private static byte[] MinimalBmp()
    {
        // 1x1, 24-bit, a red pixel (stored B, G, R) padded to 4 bytes.
        var bmp = new byte[58];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), 58);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), 4);
        bmp[54] = 0;
        bmp[55] = 0;
        bmp[56] = 255;
        return bmp;
    }

    private static byte[] PngHeader(int width, int height)
    {
        var png = new List<byte>([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), height);
        ihdr[12] = 8; // bit depth
        ihdr[13] = 2; // RGB
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, 13);
        png.AddRange(length);
        png.AddRange(ihdr);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Reliability.BadFiles.Crc32(ihdr));
        png.AddRange(crc);
        png.AddRange(new byte[64]);
        return [.. png];
    }
}
