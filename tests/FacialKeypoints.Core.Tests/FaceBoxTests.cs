namespace FacialKeypoints.Core.Tests;

public sealed class FaceBoxTests
{
    [Fact]
    public void IntersectionOverUnion_HalfOverlap_IsOneThird() =>
        new FaceBox(0, 0, 2, 2).IntersectionOverUnion(new FaceBox(1, 0, 2, 2)).Should().BeApproximately(1f / 3, 1e-6f);

    [Fact]
    public void IntersectionOverUnion_DisjointOrEmpty_IsZero()
    {
        new FaceBox(0, 0, 1, 1).IntersectionOverUnion(new FaceBox(5, 5, 1, 1)).Should().Be(0);
        new FaceBox(0, 0, 0, 0).IntersectionOverUnion(new FaceBox(0, 0, 0, 0)).Should().Be(0);
    }

    [Fact]
    public void Around_PixelCentrePoints_GivesPixelEdgeBox() =>
        FaceBox.Around([10, 20, 30, 60]).Should().Be(new FaceBox(10.5f, 20.5f, 20, 40));
}
