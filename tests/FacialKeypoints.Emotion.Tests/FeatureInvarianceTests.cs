namespace FacialKeypoints.Emotion.Tests;

public class FeatureInvarianceTests
{
    public static TheoryData<float, float, float, float> Transforms => new()
    {
        { 2.0f, 0f, 0f, 0f },          // scale
        { 0.5f, 0f, 0f, 0f },
        { 1f, 0f, 37.5f, -12.25f },    // translation
        { 1f, 0.15f, 0f, 0f },         // about 8.6 degrees
        { 1f, -0.2f, 0f, 0f },
        { 1.7f, 0.1f, -20f, 31f },     // all at once
    };

    [Theory]
    [MemberData(nameof(Transforms))]
    public void GeometryFeatures_ScaledShiftedRotatedLandmarks_AreUnchanged(float scale, float radians, float tx, float ty)
    {
        var face = TestFaces.Frontal();

        var original = GeometryFeatures.Compute(face);
        var moved = GeometryFeatures.Compute(TestFaces.Transform(face, scale, radians, tx, ty));

        moved.Should().HaveCount(GeometryFeatures.Count);
        for (int i = 0; i < original.Length; i++)
        {
            moved[i].Should().BeApproximately(original[i], 1e-3f, GeometryFeatures.Names[i]);
        }
    }

    [Fact]
    public void GeometryFeatures_Names_MatchCount()
    {
        GeometryFeatures.Names.Should().HaveCount(GeometryFeatures.Count).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void FaceFrame_ToImageThenToFace_RoundTrips()
    {
        var frame = FaceFrame.FromLandmarks(TestFaces.Transform(TestFaces.Frontal(), 1.3f, 0.3f, 5, 9));

        var (x, y) = frame.ToImage(0.4f, 0.9f);
        var (u, v) = frame.ToFace(x, y);

        u.Should().BeApproximately(0.4f, 1e-5f);
        v.Should().BeApproximately(0.9f, 1e-5f);
    }

    [Fact]
    public void FaceFrame_EyeCorners_MapToMinusAndPlusHalf()
    {
        var face = TestFaces.Transform(TestFaces.Frontal(), 0.7f, -0.25f, 40, 3);
        var frame = FaceFrame.FromLandmarks(face);

        frame.ToFace(face[72], face[73]).U.Should().BeApproximately(-0.5f, 1e-5f);
        frame.ToFace(face[90], face[91]).U.Should().BeApproximately(0.5f, 1e-5f);
        frame.ToFace(face[90], face[91]).V.Should().BeApproximately(0f, 1e-5f);
    }

    [Theory]
    [MemberData(nameof(Transforms))]
    public void AlignedCrop_TransformedImageAndLandmarks_GivesTheSameCrop(float scale, float radians, float tx, float ty)
    {
        // Each image is painted as a function of face-frame coordinates, so an exact aligner sees the same picture.
        var face = TestFaces.Transform(TestFaces.Frontal(), 1f, 0f, 40f, 40f);
        var moved = TestFaces.Transform(face, scale, radians, tx + 40f, ty + 40f);
        var spec = new CropSpec(0f, 0.45f, 1.6f, 64);
        var a = AlignedCrop.Extract(TestFaces.PaintedInFaceFrame(360, 360, face), face, spec);
        var b = AlignedCrop.Extract(TestFaces.PaintedInFaceFrame(560, 560, moved), moved, spec);

        double meanAbsoluteDifference = a.Pixels.Zip(b.Pixels, (p, q) => Math.Abs(p - q)).Average();

        meanAbsoluteDifference.Should().BeLessThan(2.0);
    }

    [Fact]
    public void AlignedCrop_Size_IsTheSpecSize()
    {
        var face = TestFaces.Frontal();
        var crop = AlignedCrop.Extract(TestFaces.PaintedInFaceFrame(200, 220, face), face, new CropSpec(0, 0.5f, 2f, 32));

        crop.Width.Should().Be(32);
        crop.Height.Should().Be(32);
    }
}
