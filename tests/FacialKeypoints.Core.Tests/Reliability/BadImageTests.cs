using SkiaSharp;
using Xunit.Abstractions;

namespace FacialKeypoints.Core.Tests.Reliability;

/// <summary>
/// The image half of the bad-input catalogue (docs/reliability.md): every file either decodes to the right
/// upright RGB pixels or fails with <see cref="ImageDecodeException"/> naming it. Nothing else may escape.
/// </summary>
public sealed class BadImageTests(ITestOutputHelper output)
{
    /// <summary>Decodes, or returns the documented exception; any other exception fails the test where it happens.</summary>
    internal static (RgbImage? Image, ImageDecodeException? Error) Outcome(byte[] bytes, string name)
    {
        try
        {
            return (ImageDecoder.Decode(bytes, name), null);
        }
        catch (ImageDecodeException e)
        {
            e.FilePath.Should().Be(name);
            e.Message.Should().StartWith($"Image '{name}' ");
            return (null, e);
        }
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Webp)]
    public void Decode_TruncatedAtEveryOffset_FullImageOrNamedError(SKEncodedImageFormat format)
    {
        byte[] whole = BadFiles.Encode(format);
        int refused = 0;
        for (int length = 0; length < whole.Length; length++)
        {
            var (image, error) = Outcome(whole[..length], "cut.img");
            if (error is null)
            {
                (image!.Width, image.Height).Should().Be((64, 48), "a truncated file that decodes keeps its size (length {0})", length);
            }
            else
            {
                refused++;
            }
        }

        // Only a file cut inside its trailer (a PNG's IDAT CRC and IEND, a JPEG's EOI) may still decode.
        output.WriteLine($"{format}: {whole.Length} truncations, {refused} refused, {whole.Length - refused} decoded whole");
        refused.Should().BeGreaterThan(whole.Length - 32);
    }

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "a PNG signature alone")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF }, "a JPEG start alone")]
    [InlineData(new byte[] { 0x25, 0x50, 0x44, 0x46, 0x2D, 0x31 }, "%PDF-1")]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0 }, "a zip header")]
    [InlineData(new byte[] { 0 }, "one zero byte")]
    public void Decode_NotAnImage_NamedError(byte[] bytes, string what) =>
        Outcome(bytes, "x.jpg").Error.Should().NotBeNull(what);

    [Fact]
    public void Decode_OnePixel_Decodes()
    {
        var image = ImageDecoder.Decode(BadFiles.Png(1, 1, 8, 2, _ => [10, 20, 30]), "dot.png");
        (image.Width, image.Height, image[0, 0, 0], image[0, 0, 2]).Should().Be((1, 1, (byte)10, (byte)30));
    }

    [Theory]
    [InlineData(100_000, 100_000)]
    [InlineData(9_000, 9_000)]
    [InlineData(1, int.MaxValue)]
    public void Decode_PngDeclaringHugeSize_RefusedBeforeDecoding(int width, int height)
    {
        // A real, complete file for 9000 x 9000 (1-bit grey, 10 kB of zlib for 81 Mpx): a decompression bomb.
        byte[] png = width == 9_000
            ? BadFiles.Png(width, height, 1, 0, _ => new byte[(width + 7) / 8])
            : BadFiles.Png(width, height, 8, 2, _ => [], maxRows: 1);
        Outcome(png, "bomb.png").Error!.Message.Should().Contain("megapixels");
    }

    [Fact]
    public void Decode_JpegDeclaringHugeSize_RefusedBeforeDecoding() =>
        Outcome(BadFiles.FlatJpeg([128, 128, 128], 60_000, 60_000), "bomb.jpg").Error!.Message.Should().Contain("megapixels");

    [Fact]
    public void Decode_Grayscale16BitPaletteAndGreyAlphaPngs_GiveRgb()
    {
        var grey = ImageDecoder.Decode(BadFiles.Png(4, 2, 8, 0, _ => [0, 100, 200, 255]), "grey.png");
        var deep = ImageDecoder.Decode(BadFiles.Png(2, 2, 16, 2, _ => [0xFF, 0xFF, 0, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF]), "deep.png");
        var palette = ImageDecoder.Decode(BadFiles.Png(2, 1, 8, 3, _ => [1, 0], palette: [0, 0, 0, 0, 255, 0]), "palette.png");
        var greyAlpha = ImageDecoder.Decode(BadFiles.Png(1, 1, 8, 4, _ => [77, 255]), "grey-alpha.png");

        grey.Pixels[3..6].Should().Equal(100, 100, 100);
        deep.Pixels[..3].Should().Equal(255, 0, 128);
        deep.Pixels[3..6].Should().Equal(0, 0, 255);
        palette.Pixels.Should().Equal(0, 255, 0, 0, 0, 0);
        greyAlpha.Pixels.Should().Equal(77, 77, 77);
    }

    [Fact]
    public void Decode_PaletteIndexBeyondPalette_DecodesOrNamedError() =>
        Outcome(BadFiles.Png(2, 1, 8, 3, _ => [7, 200], palette: [0, 0, 0]), "bad-index.png");

    [Fact]
    public void Decode_CmykJpeg_GivesRgbOfTheInkMix()
    {
        // Red ink: C=0, M=Y=255 (full), K=0, stored inverted as Adobe CMYK files are.
        var image = ImageDecoder.Decode(BadFiles.FlatJpeg([255, 0, 0, 255]), "cmyk.jpg");

        (image.Width, image.Height).Should().Be((8, 8));
        image[4, 4, 0].Should().BeGreaterThan(200);
        image[4, 4, 1].Should().BeLessThan(60);
        image[4, 4, 2].Should().BeLessThan(60);
    }

    [Fact]
    public void Decode_GreyJpeg_ExpandsToRgb()
    {
        var image = ImageDecoder.Decode(BadFiles.FlatJpeg([90]), "grey.jpg");
        image[3, 3, 0].Should().BeInRange(88, 92).And.Be(image[3, 3, 1]).And.Be(image[3, 3, 2]);
    }

    [Theory]
    [InlineData(1, 64, 48)]
    [InlineData(3, 64, 48)]
    [InlineData(6, 48, 64)]
    [InlineData(8, 48, 64)]
    [InlineData(5, 48, 64)]
    [InlineData(0, 64, 48)]
    [InlineData(9, 64, 48)]
    public void Decode_JpegWithExifOrientation_IsUprightOrIgnoresUnknownValues(ushort orientation, int width, int height)
    {
        byte[] jpeg = BadFiles.WithExifOrientation(BadFiles.Encode(SKEncodedImageFormat.Jpeg), orientation);

        var image = ImageDecoder.Decode(jpeg, "rotated.jpg");

        (image.Width, image.Height).Should().Be((width, height));
        ImageDecoder.Decode(jpeg, "rotated.jpg").Pixels.Should().Equal(image.Pixels, "decoding is deterministic");
    }

    [Fact]
    public void Decode_AnimatedGif_GivesTheFirstFrame()
    {
        var image = ImageDecoder.Decode(BadFiles.AnimatedGif(), "blink.gif");
        (image.Width, image.Height).Should().Be((1, 1));
        image.Pixels.Should().Equal(255, 255, 255);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(50)]
    public void Decode_Webp_LossyAndLossless(int quality)
    {
        var image = ImageDecoder.Decode(BadFiles.Encode(SKEncodedImageFormat.Webp, quality: quality), "face.webp");
        (image.Width, image.Height).Should().Be((64, 48));
    }

    [Fact]
    public void Decode_FileFromDisk_EmptyTruncatedAndDirectory_NamedErrors()
    {
        string folder = Path.Combine(Path.GetTempPath(), "fkp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string empty = Path.Combine(folder, "empty.jpg");
            File.WriteAllBytes(empty, []);
            string cut = Path.Combine(folder, "cut.png");
            File.WriteAllBytes(cut, BadFiles.Encode(SKEncodedImageFormat.Png)[..100]);

            foreach (string path in new[] { empty, cut, folder })
            {
                FluentActions.Invoking(() => ImageDecoder.Decode(path)).Should().Throw<ImageDecodeException>().Which.FilePath.Should().Be(path);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
