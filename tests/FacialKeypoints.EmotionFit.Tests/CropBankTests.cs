using FacialKeypoints.Core;

namespace FacialKeypoints.EmotionFit.Tests;

/// <summary>
/// The expression network's base crops and their inside masks, and the training fill of the areas a crop takes from
/// outside its image: a tight face crop must not teach the network that a black border belongs to a class.
/// </summary>
public sealed class CropBankTests
{
    private const int Pixels = CropBank.BaseSize * CropBank.BaseSize;

    [Fact]
    public void Cut_FaceAtTheImageEdge_MasksWhatFallsOutside()
    {
        var image = new RgbImage(120, 120);
        Array.Fill(image.Pixels, (byte)200);

        // Eyes 40 px apart, 20 px from the bottom edge: the crop (2.1 eye distances, centred 0.55 below the eyes)
        // reaches well below the image.
        var crop = CropBank.Cut(image, Landmarks(eyeLeftX: 40, eyeRightX: 80, eyeY: 100), out byte[] inside);

        crop.Should().HaveCount(Pixels);
        inside.Should().HaveCount(Pixels);
        int outside = inside.Count(v => v == 0), within = inside.Count(v => v == 255);
        outside.Should().BeGreaterThan(Pixels / 10, "the lower part of the crop lies below the image");
        within.Should().BeGreaterThan(Pixels / 4);
        Enumerable.Range(0, Pixels).Where(i => inside[i] == 0).Should().OnlyContain(i => crop[i] == 0, "the resampler gives black outside the image");
        Enumerable.Range(0, Pixels).Where(i => inside[i] == 255).Should().OnlyContain(i => crop[i] == 200);
    }

    [Fact]
    public void FillOutside_FillsOnlyTheOutsideAndMostCropsWithALevel()
    {
        var crop = new byte[Pixels];
        var inside = new byte[Pixels];
        for (int i = 0; i < Pixels; i++)
        {
            bool outside = i < Pixels / 2;
            crop[i] = outside ? (byte)0 : (byte)100;
            inside[i] = outside ? (byte)0 : (byte)255;
        }

        const int count = 400;
        var pixels = ExpressionTraining.FillOutside(Enumerable.Repeat(crop, count).ToList(), Enumerable.Repeat(inside, count).ToList(), new Random(3), 0.75);

        int filled = 0;
        for (int k = 0; k < count; k++)
        {
            var face = pixels.AsSpan(k * Pixels, Pixels).ToArray();
            face[(Pixels / 2)..].Should().OnlyContain(v => Math.Abs(v - (100 / 255f)) < 1e-6, "the inside is left alone");
            face[..(Pixels / 2)].Distinct().Should().ContainSingle("one level fills the whole outside of a crop");
            filled += face[0] > 0 ? 1 : 0;
        }

        ((double)filled / count).Should().BeApproximately(0.75, 0.06);
    }

    /// <summary>68 points, all at the eyes' midpoint but the outer eye corners (36 and 45), which define the face frame.</summary>
    private static float[] Landmarks(float eyeLeftX, float eyeRightX, float eyeY)
    {
        var points = new float[136];
        for (int i = 0; i < 68; i++)
        {
            points[2 * i] = (eyeLeftX + eyeRightX) / 2;
            points[(2 * i) + 1] = eyeY;
        }

        points[72] = eyeLeftX;
        points[73] = eyeY;
        points[90] = eyeRightX;
        points[91] = eyeY;
        return points;
    }
}
