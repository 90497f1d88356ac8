using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference.Tests.Runtime;

public sealed class PixelTensorTests
{
    private static RgbImage Image()
    {
        var image = new RgbImage(3, 2);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)(i * 13);
        }

        return image;
    }

    [Fact]
    public void WritePlanar_MatchesANaiveLoop()
    {
        var image = Image();
        float[] mean = [0.5f, 0.4f, 0.3f], std = [0.2f, 0.25f, 0.3f];
        var fast = new float[18];
        PixelTensor.WritePlanar(image, fast, mean, std);
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 2; y++)
            {
                for (int x = 0; x < 3; x++)
                {
                    fast[(c * 6) + (y * 3) + x].Should().BeApproximately(((image[x, y, c] / 255f) - mean[c]) / std[c], 1e-5f);
                }
            }
        }
    }

    [Fact]
    public void WritePlanar_Mirror_ReadsColumnsRightToLeft()
    {
        var image = Image();
        var plain = new float[18];
        var mirrored = new float[18];
        PixelTensor.WritePlanar(image, plain, [0, 0, 0], [1, 1, 1]);
        PixelTensor.WritePlanar(image, mirrored, [0, 0, 0], [1, 1, 1], mirror: true);
        mirrored[0].Should().Be(plain[2]);
        mirrored[4].Should().Be(plain[4]);
        mirrored[(2 * 6) + 3].Should().Be(plain[(2 * 6) + 5]);
    }

    [Fact]
    public void WritePlanar_Grey_IsTheLumaOfEachPixel()
    {
        var image = new RgbImage(1, 1, [255, 0, 0]);
        var grey = new float[1];
        PixelTensor.WritePlanar(image, grey, [0], [1], grey: true);
        grey[0].Should().BeApproximately(76f / 255, 1e-6f, "0.299 x 255 = 76.2, rounded to a whole level as in training");

        var three = new float[3];
        PixelTensor.WritePlanar(image, three, [0, 0.1f, 0.2f], [1, 1, 0.5f], grey: true);
        three.Should().Equal(76f / 255, (76f / 255) - 0.1f, ((76f / 255) - 0.2f) / 0.5f);
    }

    [Fact]
    public void WriteInterleaved_ScalesToMinusOneToOne()
    {
        var values = new float[3];
        PixelTensor.WriteInterleaved(new RgbImage(1, 1, [0, 255, 128]), values, 2f / 255f, -1f);
        values.Should().BeEquivalentTo(new[] { -1f, 1f, 0.00392f }, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-4f)).WhenTypeIs<float>());
    }
}
