using FacialKeypoints.Data;

namespace FacialKeypoints.Emotion.Tests;

public class PhotometricFeaturesTests
{
    private static readonly int OuterTeeth = PhotometricFeatures.Names.ToList().IndexOf("outer_teeth_fraction");

    // Skin-coloured everywhere, with white teeth (or nothing) painted in the mouth region of the face frame.
    private static RgbImage Painted(int width, int height, float[] landmarks, bool teeth)
    {
        var frame = FaceFrame.FromLandmarks(landmarks);
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                var (u, v) = frame.ToFace(x, y);
                bool mouth = teeth && MathF.Abs(u) < 0.25f && MathF.Abs(v - 0.85f) < 0.08f;
                byte[] colour = mouth ? [240, 238, 232] : [196, 140, 110];
                colour.CopyTo(image.Pixels, ((y * width) + x) * 3);
            }
        }

        return image;
    }

    [Theory]
    [MemberData(nameof(FeatureInvarianceTests.Transforms), MemberType = typeof(FeatureInvarianceTests))]
    public void Compute_ScaledShiftedRotatedFace_IsUnchanged(float scale, float radians, float tx, float ty)
    {
        var face = TestFaces.Transform(TestFaces.Frontal(), 1f, 0f, 40f, 40f);
        var moved = TestFaces.Transform(face, scale, radians, tx + 40f, ty + 40f);

        var a = PhotometricFeatures.Compute(TestFaces.PaintedInFaceFrame(360, 360, face), face);
        var b = PhotometricFeatures.Compute(TestFaces.PaintedInFaceFrame(560, 560, moved), moved);

        for (int i = 0; i < a.Length; i++)
        {
            b[i].Should().BeApproximately(a[i], 0.05f, PhotometricFeatures.Names[i]);
        }
    }

    [Fact]
    public void Compute_WhiteTeethBetweenTheLips_RaisesTheTeethFraction()
    {
        var face = TestFaces.Transform(TestFaces.Frontal(), 1f, 0f, 40f, 40f);

        var smile = PhotometricFeatures.Compute(Painted(300, 300, face, teeth: true), face);
        var closed = PhotometricFeatures.Compute(Painted(300, 300, face, teeth: false), face);

        smile[OuterTeeth].Should().BeGreaterThan(0.3f);
        closed[OuterTeeth].Should().Be(0);
        closed.Take(2).Should().AllSatisfy(ratio => ratio.Should().BeApproximately(1f, 0.02f), "lips painted like the skin read as skin");
    }

    [Fact]
    public void Names_MatchCount() => PhotometricFeatures.Names.Should().HaveCount(PhotometricFeatures.Count).And.OnlyHaveUniqueItems();

    [Fact]
    public void LearnedClassifier_PhotometricParameters_NeedTheImage()
    {
        var faces = Enumerable.Range(0, 12).Select(i => TestFaces.Transform(TestFaces.Frontal(), 1 + (0.05f * i), 0.01f * i, 40 + i, 40 - i)).ToList();
        var images = faces.Select((f, i) => Painted(300, 300, f, teeth: i % 2 == 1)).ToList();
        // By hand: the outer-lip teeth fraction alone votes for positive.
        var weights = new float[PhotometricFeatures.Count];
        weights[OuterTeeth] = 10;
        using var classifier = new LearnedExpressionClassifier(new ExpressionModelParameters
        {
            PhotometricVersion = PhotometricFeatures.Version,
            Classes = ["neutral", "positive"],
            Means = new float[PhotometricFeatures.Count],
            Scales = [.. Enumerable.Repeat(1f, PhotometricFeatures.Count)],
            Weights = [new float[PhotometricFeatures.Count], weights],
            Biases = [1, 0],
        });

        var withImage = classifier.Classify(new ExpressionInput(faces[1], images[1]));
        var act = () => classifier.Classify(new ExpressionInput(faces[1]));

        classifier.Parameters.PhotometricVersion.Should().Be(PhotometricFeatures.Version);
        withImage.Label.Should().Be(ExpressionLabel.Positive);
        act.Should().Throw<ArgumentException>().WithMessage("*photometric*");
    }
}
