using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Data.Tests.Transforms;

public sealed class TransformTests
{
    private static readonly LandmarkScheme Scheme = LandmarkScheme.Ibug68;

    internal static FaceSample Synthetic(int width = 40, int height = 30, float[]? keypoints = null)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 3;
                image.Pixels[i] = (byte)(x * 5);
                image.Pixels[i + 1] = (byte)(y * 7);
                image.Pixels[i + 2] = (byte)((x + y) % 2 * 200);
            }
        }

        keypoints ??= [.. Enumerable.Range(0, Scheme.ValueCount).Select(i => i % 2 == 0 ? (float)(i / 2 % width) : (float)(i / 2 % height))];
        return new FaceSample(image, keypoints, new SampleInfo(0, "synthetic_00.jpg", "synthetic", width, height));
    }

    [Fact]
    public void HorizontalFlip_MovesPixelToMirrorColumn()
    {
        var sample = Synthetic();
        var flipped = new HorizontalFlip(Scheme).Apply(sample, true);
        for (int c = 0; c < 3; c++)
        {
            flipped.Image[0, 5, c].Should().Be(sample.Image[39, 5, c]);
            flipped.Image[12, 7, c].Should().Be(sample.Image[40 - 1 - 12, 7, c]);
        }
    }

    [Fact]
    public void HorizontalFlip_MirrorsXAndSwapsIndices()
    {
        var sample = Synthetic();
        var flipped = new HorizontalFlip(Scheme).Apply(sample, true);
        // Original point 36 (subject's right outer eye corner) becomes point 45 at x' = W - 1 - x.
        flipped.Keypoints[2 * 45].Should().Be(40 - 1 - sample.Keypoints[2 * 36]);
        flipped.Keypoints[(2 * 45) + 1].Should().Be(sample.Keypoints[(2 * 36) + 1]);
        // A point on the axis of symmetry keeps its index.
        flipped.Keypoints[2 * 8].Should().Be(40 - 1 - sample.Keypoints[2 * 8]);
    }

    [Fact]
    public void HorizontalFlip_Twice_ReturnsOriginalKeypointsAndPixels()
    {
        var sample = Synthetic();
        var flip = new HorizontalFlip(Scheme);
        var twice = flip.Apply(flip.Apply(sample, true), true);
        twice.Keypoints.Should().Equal(sample.Keypoints);
        twice.Image.Pixels.Should().Equal(sample.Image.Pixels);
    }

    [Fact]
    public void HorizontalFlip_SubjectsRightEyePixelsLandOnImageRight()
    {
        // A face with the subject's right eye (36-41) on the image's left, as in the dataset.
        var keypoints = new float[Scheme.ValueCount];
        foreach (int i in Scheme.IndicesOf("right_eye"))
        {
            keypoints[2 * i] = 10;
        }

        foreach (int i in Scheme.IndicesOf("left_eye"))
        {
            keypoints[2 * i] = 30;
        }

        var flipped = new HorizontalFlip(Scheme).Apply(Synthetic(keypoints: keypoints), true);
        // The subject's right eye, mirrored, is now on the image's right and carries the left-eye labels,
        // so the flipped face keeps the dataset's convention (36-41 on the image's left).
        Scheme.IndicesOf("left_eye").Should().OnlyContain(i => flipped.Keypoints[2 * i] > 20);
        Scheme.IndicesOf("right_eye").Should().OnlyContain(i => flipped.Keypoints[2 * i] < 20);
    }

    [Fact]
    public void HorizontalFlip_NotSampled_ReturnsSameSample()
    {
        var sample = Synthetic();
        new HorizontalFlip(Scheme, 0).Apply(sample, new Random(1)).Should().BeSameAs(sample);
    }

    [Fact]
    public void Rescale_ScalesKeypointsPerAxisAndResizesImage()
    {
        var sample = Synthetic(40, 20, [.. Enumerable.Repeat(0f, Scheme.ValueCount)]);
        sample.Keypoints[0] = 19.5f; // the centre line of a 40 px wide image
        sample.Keypoints[1] = 9.5f;
        sample.Keypoints[2] = -0.5f; // the left edge
        var resized = new Rescale(80).Apply(sample, new Random(0));
        resized.Image.Width.Should().Be(80);
        resized.Image.Height.Should().Be(80);
        resized.Keypoints[0].Should().BeApproximately(39.5f, 1e-4f);
        resized.Keypoints[1].Should().BeApproximately(39.5f, 1e-4f);
        resized.Keypoints[2].Should().BeApproximately(-0.5f, 1e-4f);
    }

    [Fact]
    public void Rescale_UniformImage_StaysUniform()
    {
        var image = new RgbImage(30, 50);
        Array.Fill(image.Pixels, (byte)120);
        var resized = new Rescale(64).Apply(new FaceSample(image, new float[Scheme.ValueCount], new SampleInfo(0, "a_00.jpg", "a", 30, 50)), new Random(0));
        resized.Image.Pixels.Should().OnlyContain(v => v >= 119 && v <= 121);
    }

    [Fact]
    public void RandomAffine_IdentityParameters_KeepKeypointsAndPixels()
    {
        var sample = Synthetic();
        var same = new RandomAffine().Apply(sample, new AffineParameters(0, 1, 0, 0));
        same.Keypoints.Should().Equal(sample.Keypoints, (a, b) => Math.Abs(a - b) < 1e-4);
        same.Image.Pixels.Zip(sample.Image.Pixels).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1);
    }

    [Fact]
    public void RandomAffine_QuarterTurn_RotatesKeypointAboutCentre()
    {
        var keypoints = new float[Scheme.ValueCount];
        keypoints[0] = 29.5f; // 10 px right of the centre (19.5, 19.5) of a 40 x 40 image
        keypoints[1] = 19.5f;
        var rotated = new RandomAffine(90).Apply(Synthetic(40, 40, keypoints), new AffineParameters(90, 1, 0, 0));
        // Clockwise on screen (y down): right of centre goes to below the centre.
        rotated.Keypoints[0].Should().BeApproximately(19.5f, 1e-3f);
        rotated.Keypoints[1].Should().BeApproximately(29.5f, 1e-3f);
    }

    [Fact]
    public void RandomAffine_ScaleAndShift_MoveKeypointsAndPixelsTogether()
    {
        // A white 2x2 square at pixels (10..11, 10..11) of a black image; its centre is keypoint 0.
        var image = new RgbImage(40, 40);
        foreach (var (x, y) in new[] { (10, 10), (11, 10), (10, 11), (11, 11) })
        {
            for (int c = 0; c < 3; c++)
            {
                image.Pixels[(((y * 40) + x) * 3) + c] = 255;
            }
        }

        var keypoints = new float[Scheme.ValueCount];
        keypoints[0] = 10.5f;
        keypoints[1] = 10.5f;
        var moved = new RandomAffine().Apply(new FaceSample(image, keypoints, new SampleInfo(0, "a_00.jpg", "a", 40, 40)), new AffineParameters(0, 1, 0.25f, 0.125f));
        moved.Keypoints[0].Should().BeApproximately(20.5f, 1e-3f);
        moved.Keypoints[1].Should().BeApproximately(15.5f, 1e-3f);
        moved.Image[20, 15, 0].Should().BeGreaterThan(200);
        moved.Image[10, 10, 0].Should().BeLessThan(50);
    }

    [Fact]
    public void ColorJitter_NeutralParameters_KeepImage()
    {
        var sample = Synthetic();
        var same = new ColorJitter().Apply(sample, new JitterParameters(1, 1, 1));
        same.Image.Pixels.Should().Equal(sample.Image.Pixels);
    }

    [Fact]
    public void ColorJitter_HalfBrightness_HalvesPixelsAndKeepsKeypoints()
    {
        var sample = Synthetic();
        var darker = new ColorJitter().Apply(sample, new JitterParameters(0.5f, 1, 1));
        darker.Image[20, 10, 0].Should().Be((byte)Math.Round(sample.Image[20, 10, 0] * 0.5));
        darker.Keypoints.Should().BeSameAs(sample.Keypoints);
    }

    [Fact]
    public void ColorJitter_ZeroSaturation_MakesGray()
    {
        var gray = new ColorJitter().Apply(Synthetic(), new JitterParameters(1, 1, 0));
        for (int i = 0; i < gray.Image.Pixels.Length; i += 3)
        {
            gray.Image.Pixels[i].Should().Be(gray.Image.Pixels[i + 1]);
            gray.Image.Pixels[i + 1].Should().Be(gray.Image.Pixels[i + 2]);
        }
    }

    [Fact]
    public void Normalize_MapsEdgesToPlusMinusOneAndRoundTrips()
    {
        float[] points = [-0.5f, -0.5f, 39.5f, 29.5f, 19.5f, 14.5f];
        var normalized = KeypointNormalization.Normalize(points, 40, 30);
        normalized.Should().Equal([-1f, -1f, 1f, 1f, 0f, 0f], (a, b) => Math.Abs(a - b) < 1e-6);
        KeypointNormalization.Denormalize(normalized, 40, 30).Should().Equal(points, (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void Normalize_FlipIsNegationOfX()
    {
        var sample = Synthetic();
        var mirroredX = KeypointNormalization.Normalize([sample.Keypoints[0], 3, 40 - 1 - sample.Keypoints[0], 3], 40, 30);
        mirroredX[2].Should().BeApproximately(-mirroredX[0], 1e-6f);
    }

    [Fact]
    public void FromSquareFrame_InvertsRescale()
    {
        var sample = Synthetic(57, 91);
        var resized = new Rescale(160).Apply(sample, new Random(0));
        KeypointNormalization.FromSquareFrame(resized.Keypoints, 160, 57, 91).Should().Equal(sample.Keypoints, (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public void RandomTransform_SameSeed_SameParameters()
    {
        var affine = new RandomAffine(20, 0.8f, 1.2f, 0.1f);
        var sample = Synthetic();
        affine.Sample(sample, new Random(7)).Should().Be(affine.Sample(sample, new Random(7)));
        var drawn = affine.Sample(sample, new Random(3));
        Math.Abs(drawn.RotationDegrees).Should().BeLessThanOrEqualTo(20);
        drawn.Scale.Should().BeInRange(0.8f, 1.2f);
    }

    [Fact]
    public void Compose_AppliesInOrderAndReportsRandomness()
    {
        var pipeline = new Compose(new Rescale(32), new HorizontalFlip(Scheme, 1.0));
        pipeline.IsRandom.Should().BeTrue();
        new Compose(new Rescale(32)).IsRandom.Should().BeFalse();
        var result = pipeline.Apply(Synthetic(), new Random(0));
        result.Image.Width.Should().Be(32);
    }

    [Fact]
    public void CustomTransform_PlugsIntoPipeline()
    {
        var result = new Compose(new Rescale(16), new ShiftRight(3)).Apply(Synthetic(), new Random(0));
        result.Keypoints[0].Should().BeApproximately(new Rescale(16).Apply(Synthetic(), new Random(0)).Keypoints[0] + 3, 1e-4f);
    }

    private sealed class ShiftRight(float pixels) : IKeypointTransform
    {
        public bool IsRandom => false;

        public FaceSample Apply(FaceSample sample, Random random) =>
            sample with { Keypoints = [.. sample.Keypoints.Select((v, i) => i % 2 == 0 ? v + pixels : v)] };
    }
}
