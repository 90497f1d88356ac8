using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Data.Tests;

public sealed class PtsDatasetTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, true);

    /// <summary>A 100 x 80 image whose pixel (x, y) holds (2x, 3y, 7); its faces' landmark box spans (30, 20)-(69, 59) 0-based.</summary>
    private static RgbImage Gradient()
    {
        var image = new RgbImage(100, 80);
        for (int y = 0; y < 80; y++)
        {
            for (int x = 0; x < 100; x++)
            {
                int i = ((y * 100) + x) * 3;
                image.Pixels[i] = (byte)(2 * x);
                image.Pixels[i + 1] = (byte)(3 * y);
                image.Pixels[i + 2] = 7;
            }
        }

        return image;
    }

    // Points spread over the box (30, 20)-(69, 59), written 1-based.
    private static (float X, float Y) BoxPoint(int k) => (31 + (k % 40), 21 + (k * 39 / 67));

    private void WriteFace(string stem, string pts, bool image = true)
    {
        File.WriteAllText(Path.Combine(folder, stem + ".pts"), pts);
        if (image)
        {
            KeypointOverlay.SavePng(Gradient(), Path.Combine(folder, stem + ".png"));
        }
    }

    private void WriteFolder()
    {
        WriteFace("a_face", PtsReaderTests.PtsText(point: BoxPoint));
        WriteFace("b_face", PtsReaderTests.PtsText("\r\n", comments: true, point: BoxPoint));
        WriteFace("c_bad", PtsReaderTests.PtsText().Replace("\n20 ", "\n20 oops ", StringComparison.Ordinal));
        WriteFace("d_lonely", PtsReaderTests.PtsText(point: BoxPoint), image: false);
    }

    [Fact]
    public void Open_FailFast_NamesBadFileAndLine()
    {
        WriteFolder();
        FluentActions.Invoking(() => PtsDataset.Open(folder)).Should().Throw<KeypointCsvException>()
            .WithMessage($"{Path.Combine(folder, "c_bad.pts")}:23: point line '20 oops 39.5' has 3 fields*");
    }

    [Fact]
    public void Open_SkipAndReport_KeepsGoodFilesAndReportsBadOnes()
    {
        WriteFolder();
        var dataset = PtsDataset.Open(folder, new PtsDatasetOptions { BadRows = BadRowPolicy.SkipAndReport });
        dataset.Records.Select(r => r.Name).Should().Equal("a_face.png", "b_face.png");
        dataset.Problems.Select(p => (Path.GetFileName(p.File), p.Line)).Should().Equal(("c_bad.pts", 23), ("d_lonely.pts", 0));
        dataset.Problems[1].Problem.Should().StartWith("no image named 'd_lonely'");
        dataset.Records[1].Keypoints.Should().Equal(dataset.Records[0].Keypoints, "CRLF and comments read the same");
        dataset.GetInfo(0).Identity.Should().Be("a_face", "each file is its own identity");
        PtsDataset.IsPtsFolder(folder).Should().BeTrue();
    }

    [Fact]
    public void Load_CropsToTrainingFramingWithPaddingPastTheBorder()
    {
        WriteFace("face", PtsReaderTests.PtsText(point: BoxPoint));
        var dataset = PtsDataset.Open(folder);
        var sample = dataset.Load(0);

        // Box 30..69 x 20..59 (39 px each way; pixel edges 30.5 and 69.5). Left 30.5 - 0.668 * 39 = 4.45 -> 4,
        // right 69.5 + 26.05 -> 96; top 20.5 - 0.995 * 39 = -18.3 -> -18, bottom 59.5 + 0.725 * 39 = 87.8 -> 88.
        sample.Image.Width.Should().Be(92);
        sample.Image.Height.Should().Be(106);
        dataset.GetInfo(0).Should().Be(sample.Info, "the crop's size is known from the landmarks alone");
        sample.Info.OriginalWidth.Should().Be(92);
        sample.Keypoints[0].Should().Be(30 - 4);
        sample.Keypoints[1].Should().Be(20 + 18);

        // Pixels are copied, not resampled: crop (u, v) is image (u + 4, v - 18); rows above the image are black.
        for (int c = 0; c < 3; c++)
        {
            sample.Image[0, 0, c].Should().Be(0);
            sample.Image[91, 17, c].Should().Be(0);
        }

        sample.Image[0, 18, 0].Should().Be(8);
        sample.Image[0, 18, 1].Should().Be(0);
        sample.Image[50, 60, 0].Should().Be(2 * 54);
        sample.Image[50, 60, 1].Should().Be(3 * 42);
        sample.Image[50, 60, 2].Should().Be(7);
        sample.Image[91, 97, 2].Should().Be(7, "row 97 is image row 79, the last");
        sample.Image[91, 98, 2].Should().Be(0, "row 98 is below the image");

        // The framing measured back from the crop matches the training factors to within a pixel.
        float[] xs = [.. sample.Keypoints.Where((_, i) => i % 2 == 0)], ys = [.. sample.Keypoints.Where((_, i) => i % 2 == 1)];
        float width = xs.Max() - xs.Min(), height = ys.Max() - ys.Min();
        ((xs.Min() + 0.5f) / width).Should().BeApproximately(FaceFraming.Training.Left, 1f / width);
        ((92 - 0.5f - xs.Max()) / width).Should().BeApproximately(FaceFraming.Training.Right, 1f / width);
        ((ys.Min() + 0.5f) / height).Should().BeApproximately(FaceFraming.Training.Top, 1f / height);
        ((106 - 0.5f - ys.Max()) / height).Should().BeApproximately(FaceFraming.Training.Bottom, 1f / height);
    }

    [Fact]
    public void Load_WithoutFraming_KeepsWholeImage()
    {
        WriteFace("face", PtsReaderTests.PtsText(point: BoxPoint));
        var sample = PtsDataset.Open(folder, new PtsDatasetOptions { Framing = null }).Load(0);
        sample.Image.Width.Should().Be(100);
        sample.Keypoints[0].Should().Be(30);
    }
}
