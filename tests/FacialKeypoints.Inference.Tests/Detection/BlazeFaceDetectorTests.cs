using FacialKeypoints.Inference.Detection;
using FacialKeypoints.Inference.Runtime;

namespace FacialKeypoints.Inference.Tests.Detection;

public sealed class BlazeFaceDetectorFixture : IDisposable
{
    internal BlazeFaceDetector Front { get; } = new(OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorFront128), "front", 1), FaceFraming.Training);

    internal BlazeFaceDetector Back { get; } = new(OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorBack256), "back", 1), FaceFraming.Training);

    public void Dispose()
    {
        Front.Dispose();
        Back.Dispose();
    }
}

public sealed class BlazeFaceDetectorTests(BlazeFaceDetectorFixture detectors) : IClassFixture<BlazeFaceDetectorFixture>
{
    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(500)]
    public void Detect_TestCrop_FindsOneFaceAroundItsLandmarks(int row)
    {
        var (image, landmarks) = TestImages.Face(row);
        using var source = new WarpSource(image);

        var found = detectors.Front.Detect(source, 0.5f, 10);

        var face = found.Should().ContainSingle().Subject;
        face.Score.Should().BeGreaterThan(0.5f);
        var truth = FaceBox.Around(landmarks);
        face.Box.IntersectionOverUnion(truth).Should().BeGreaterThan(0.3f);
        face.Keypoints.Should().HaveCount(12);
    }

    [Fact]
    public void Detect_BlankImage_FindsNothing()
    {
        var blank = new RgbImage(320, 240);
        Array.Fill(blank.Pixels, (byte)128);
        using var source = new WarpSource(blank);
        detectors.Front.Detect(source, 0.5f, 10).Should().BeEmpty();
        detectors.Back.Detect(source, 0.5f, 10).Should().BeEmpty();
    }

    [Fact]
    public void Detect_SceneWithThreeFaces_FindsEachAtItsPlace()
    {
        var (scene, landmarks) = TestImages.Scene(960, 540, (3, 40, 60, 110), (200, 380, 150, 90), (400, 700, 80, 80));
        using var source = new WarpSource(scene);

        var found = detectors.Back.Detect(source, 0.5f, 10);

        found.Should().HaveCount(3);
        foreach (var points in landmarks)
        {
            var truth = FaceBox.Around(points);
            found.Max(d => d.Box.IntersectionOverUnion(truth)).Should().BeGreaterThan(0.3f);
        }
    }
}
