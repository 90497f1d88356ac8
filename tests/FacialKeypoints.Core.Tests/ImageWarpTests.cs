namespace FacialKeypoints.Core.Tests;

public sealed class ImageWarpTests
{
    private static RgbImage Gradient(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int o = ((y * width) + x) * 3;
                (image.Pixels[o], image.Pixels[o + 1], image.Pixels[o + 2]) = ((byte)(x * 7), (byte)(y * 5), (byte)((x + y) * 3));
            }
        }

        return image;
    }

    [Fact]
    public void Warp_Identity_ReturnsTheSamePixels()
    {
        var image = Gradient(17, 11);
        ImageWarp.Warp(image, 17, 11, AffineMatrix.Identity).Pixels.Should().Equal(image.Pixels);
    }

    [Fact]
    public void Warp_WholePixelTranslation_MovesPixelsAndBlacksOutTheRest()
    {
        var image = Gradient(10, 10);
        var moved = ImageWarp.Warp(image, 10, 10, AffineMatrix.Translation(3, 2));
        moved[5, 4, 0].Should().Be(image[2, 2, 0]);
        moved[9, 9, 1].Should().Be(image[6, 7, 1]);
        moved[1, 1, 0].Should().Be(0);
        moved[2, 5, 2].Should().Be(0);
    }

    [Fact]
    public void Warp_StrongDownscaleOfACheckerboard_IsGreyNotAliased()
    {
        var board = new RgbImage(256, 256);
        for (int y = 0; y < 256; y++)
        {
            for (int x = 0; x < 256; x++)
            {
                byte v = (byte)(((x + y) & 1) == 0 ? 255 : 0);
                board.Pixels[((y * 256) + x) * 3] = v;
                board.Pixels[(((y * 256) + x) * 3) + 1] = v;
                board.Pixels[(((y * 256) + x) * 3) + 2] = v;
            }
        }

        var small = ImageWarp.Warp(board, 20, 20, AffineMatrix.Scaling(20f / 256, 20f / 256));
        small.Pixels.Should().OnlyContain(v => v >= 120 && v <= 135);
    }

    [Fact]
    public void Warp_SameSourceForSeveralCrops_MatchesOneShotWarps()
    {
        var image = Gradient(200, 150);
        using var source = new WarpSource(image);
        foreach (var (size, map) in new[] { (64, AffineMatrix.Scaling(0.2f, 0.3f)), (128, AffineMatrix.Scaling(0.6f, 0.6f)), (32, AffineMatrix.Rotation(0.3f)) })
        {
            source.Warp(size, size, map).Pixels.Should().Equal(ImageWarp.Warp(image, size, size, map).Pixels);
        }
    }

    [Fact]
    public void Warp_SingularMap_Throws() =>
        FluentActions.Invoking(() => ImageWarp.Warp(Gradient(4, 4), 4, 4, AffineMatrix.Scaling(0, 1))).Should().Throw<ArgumentException>().WithMessage("*not invertible*");
}
