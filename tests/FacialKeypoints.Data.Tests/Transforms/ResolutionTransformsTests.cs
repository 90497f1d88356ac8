using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Data.Tests.Transforms;

public sealed class ResolutionTransformsTests
{
    private static FaceSample Checkerboard(int size = 32)
    {
        var image = new RgbImage(size, size);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                byte v = (byte)((x + y) % 2 == 0 ? 220 : 20);
                int i = ((y * size) + x) * 3;
                image.Pixels[i] = image.Pixels[i + 1] = image.Pixels[i + 2] = v;
            }
        }

        float[] keypoints = [.. Enumerable.Range(0, 136).Select(i => (i * 0.37f) % size)];
        return new FaceSample(image, keypoints, new SampleInfo(0, "board_00.png", "board", size, size));
    }

    /// <summary>Largest minus smallest red value away from the border (where edge repetition breaks the pattern).</summary>
    private static int Contrast(RgbImage image)
    {
        var inner = from y in Enumerable.Range(4, image.Height - 8) from x in Enumerable.Range(4, image.Width - 8) select (int)image[x, y, 0];
        return inner.Max() - inner.Min();
    }

    [Fact]
    public void GaussianBlur_FixedSigma_IsDeterministicKeepsKeypointsAndSoftens()
    {
        var sample = Checkerboard();
        var blur = new GaussianBlur(1.0, 0.5f, 2f);
        var once = blur.Apply(sample, 1.0f);
        var again = blur.Apply(sample, 1.0f);
        once.Image.Pixels.Should().Equal(again.Image.Pixels);
        once.Keypoints.Should().Equal(sample.Keypoints);
        once.Image.Width.Should().Be(32);
        Contrast(once.Image).Should().BeLessThan(20, "a one-pixel checkerboard averages out under sigma 1");
        once.Image[16, 16, 0].Should().BeInRange(110, 130);
    }

    [Fact]
    public void GaussianBlur_ZeroSigma_ReturnsSampleUnchanged()
    {
        var sample = Checkerboard();
        new GaussianBlur().Apply(sample, 0f).Should().BeSameAs(sample);
    }

    [Fact]
    public void GaussianBlur_UniformImage_StaysUniform()
    {
        var image = new RgbImage(9, 7);
        Array.Fill(image.Pixels, (byte)77);
        var sample = new FaceSample(image, new float[136], new SampleInfo(0, "gray_00.png", "gray", 9, 7));
        new GaussianBlur().Apply(sample, 1.5f).Image.Pixels.Should().AllSatisfy(p => p.Should().Be(77));
    }

    [Theory]
    [InlineData(0.0, 0f)]
    [InlineData(1.0, 0.5f)]
    public void GaussianBlur_Sample_RespectsProbabilityAndRange(double probability, float atLeast)
    {
        var blur = new GaussianBlur(probability, 0.5f, 1.5f);
        var random = new Random(3);
        for (int i = 0; i < 50; i++)
        {
            float sigma = blur.Sample(Checkerboard(), random);
            sigma.Should().BeInRange(atLeast, probability == 0 ? 0f : 1.5f);
        }
    }

    [Fact]
    public void LowResolution_FixedScale_IsDeterministicKeepsSizeAndKeypointsAndLosesDetail()
    {
        var sample = Checkerboard();
        var transform = new LowResolution(1.0, 0.4f, 0.9f);
        var once = transform.Apply(sample, 0.5f);
        once.Image.Pixels.Should().Equal(transform.Apply(sample, 0.5f).Image.Pixels);
        once.Keypoints.Should().Equal(sample.Keypoints);
        (once.Image.Width, once.Image.Height).Should().Be((32, 32));
        Contrast(once.Image).Should().BeLessThan(60, "a one-pixel pattern cannot survive half the resolution");
    }

    [Fact]
    public void LowResolution_ScaleOne_ReturnsSampleUnchanged()
    {
        var sample = Checkerboard();
        new LowResolution().Apply(sample, 1f).Should().BeSameAs(sample);
    }

    [Fact]
    public void LowResolution_Sample_RespectsProbabilityAndRange()
    {
        var transform = new LowResolution(1.0, 0.4f, 0.9f);
        var random = new Random(5);
        Enumerable.Range(0, 50).Select(_ => transform.Sample(Checkerboard(), random)).Should().AllSatisfy(s => s.Should().BeInRange(0.4f, 0.9f));
        new LowResolution(0.0).Sample(Checkerboard(), random).Should().Be(1f);
    }
}
