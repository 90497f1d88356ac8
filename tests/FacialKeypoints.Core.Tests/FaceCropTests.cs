namespace FacialKeypoints.Core.Tests;

public sealed class FaceCropTests
{
    // A 68-point face whose outer eye corners (the iBUG normalisation pair 36, 45) are at the given points; the other
    // points sit on the segment between them (they do not affect the frame).
    private static float[] Face(float leftX, float leftY, float rightX, float rightY)
    {
        var scheme = LandmarkScheme.Ibug68;
        var points = new float[scheme.ValueCount];
        for (int i = 0; i < scheme.Count; i++)
        {
            points[2 * i] = (leftX + rightX) / 2;
            points[(2 * i) + 1] = (leftY + rightY) / 2;
        }

        var (a, b) = scheme.NormalisationPair;
        points[2 * a] = leftX;
        points[(2 * a) + 1] = leftY;
        points[2 * b] = rightX;
        points[(2 * b) + 1] = rightY;
        return points;
    }

    [Fact]
    public void SourceToCrop_EyeCorners_LandAtTheirFaceFramePositions()
    {
        // Square region 2 inter-ocular distances wide centred between the eyes, 64 px: the corners (u = -0.5 and
        // 0.5, v = 0) are at crop pixel centres 15.5 and 47.5, row 31.5.
        var map = FaceCrop.SourceToCrop(Face(100, 80, 140, 80), LandmarkScheme.Ibug68, new CropSpec(0, 0, 2, 64));
        var mapped = map.MapKeypoints([100, 80, 140, 80]);

        mapped.Should().BeEquivalentTo(new[] { 15.5f, 31.5f, 47.5f, 31.5f }, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-3f)).WhenTypeIs<float>());
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(30f, 1f)]
    [InlineData(-50f, 2.5f)]
    [InlineData(170f, 0.4f)]
    public void SourceToCrop_RotatedAndScaledFace_GivesTheSameCropPoints(float degrees, float scale)
    {
        var spec = new CropSpec(0.1f, 0.45f, 2.2f, 96);
        var upright = Face(100, 80, 140, 80);
        float angle = degrees * MathF.PI / 180;
        var move = AffineMatrix.Then(AffineMatrix.Then(AffineMatrix.Rotation(angle), AffineMatrix.Scaling(scale, scale)), AffineMatrix.Translation(300, 200));
        var moved = move.MapKeypoints(upright);
        float[] probe = [120, 100, 90, 130, 150, 60];

        var expected = FaceCrop.SourceToCrop(upright, LandmarkScheme.Ibug68, spec).MapKeypoints(probe);
        var actual = FaceCrop.SourceToCrop(moved, LandmarkScheme.Ibug68, spec).MapKeypoints(move.MapKeypoints(probe));

        for (int i = 0; i < probe.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 2e-3f);
        }
    }

    [Fact]
    public void SourceToCrop_AgreesWithFaceFrameToImage()
    {
        var landmarks = Face(210, 95, 250, 125);
        var spec = new CropSpec(-0.2f, 0.6f, 1.8f, 48);
        var frame = FaceFrame.FromLandmarks(landmarks, LandmarkScheme.Ibug68);
        var map = FaceCrop.SourceToCrop(frame, spec);
        float step = spec.Extent / spec.Size;
        foreach (var (i, j) in new[] { (0, 0), (47, 0), (13, 29), (47, 47) })
        {
            var (x, y) = frame.ToImage(spec.CenterU - (spec.Extent / 2) + ((i + 0.5f) * step), spec.CenterV - (spec.Extent / 2) + ((j + 0.5f) * step));
            var crop = map.MapKeypoints([x, y]);
            crop[0].Should().BeApproximately(i, 1e-2f);
            crop[1].Should().BeApproximately(j, 1e-2f);
        }
    }

    [Fact]
    public void Extract_BrightSquareAtTheMouth_AppearsWhereTheFrameSaysAndOutsideIsBlack()
    {
        var image = new RgbImage(200, 200);
        var landmarks = Face(80, 60, 120, 60);
        var frame = FaceFrame.FromLandmarks(landmarks, LandmarkScheme.Ibug68);
        var (mx, my) = frame.ToImage(0, 1); // one inter-ocular distance below the eyes: (100, 100)
        for (int y = (int)my - 12; y <= (int)my + 12; y++)
        {
            for (int x = (int)mx - 12; x <= (int)mx + 12; x++)
            {
                image.Pixels[((y * 200) + x) * 3] = 255;
            }
        }

        using var source = new WarpSource(image);
        var crop = FaceCrop.Extract(source, frame, new CropSpec(0, 1, 6, 60)); // 0.1 IOD = 4 px per crop pixel, the crop 240 px wide

        crop[30, 30, 0].Should().BeGreaterThan(200, "the square is at the crop's centre");
        crop[15, 30, 0].Should().BeLessThan(10);
        crop[0, 0, 0].Should().Be(0, "areas outside the image are black");
    }

    [Fact]
    public void SourceToCrop_InvalidSpec_Throws()
    {
        var act = () => FaceCrop.SourceToCrop(Face(0, 0, 10, 0), LandmarkScheme.Ibug68, new CropSpec(0, 0, -1, 64));
        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Extract_CentreOfAWiderCrop_EqualsTheCropItself()
    {
        // Training cuts a wider base crop (same pixel step, a margin for augmentation) and takes its centre; inference
        // cuts the crop directly. Both must sample the same points.
        var image = new RgbImage(300, 260);
        var random = new Random(5);
        random.NextBytes(image.Pixels);
        var frame = FaceFrame.FromLandmarks(Face(120, 110, 171, 98), LandmarkScheme.Ibug68);
        var crop = new CropSpec(0f, 0.55f, 2.1f, 64);
        var wide = crop with { Extent = crop.Extent * 80 / 64, Size = 80 };
        using var source = new WarpSource(image);

        var direct = FaceCrop.Extract(source, frame, crop);
        var wider = FaceCrop.Extract(source, frame, wide);

        int worst = 0;
        for (int y = 0; y < 64; y++)
        {
            for (int x = 0; x < 64; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    worst = Math.Max(worst, Math.Abs(direct[x, y, c] - wider[x + 8, y + 8, c]));
                }
            }
        }

        worst.Should().BeLessThanOrEqualTo(2);
    }
}
