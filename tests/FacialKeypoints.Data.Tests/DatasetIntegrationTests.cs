using FacialKeypoints.Tests;

namespace FacialKeypoints.Data.Tests;

/// <summary>Loads the whole dataset at ../shared/data (or $FKP_DATA) and checks it against its README.</summary>
public sealed class DatasetIntegrationTests
{
    [Theory]
    [InlineData("training", 3462, 72, 494, 87, 478, 6, 20)]
    [InlineData("test", 770, 72, 494, 87, 478, 0, 0)]
    public void OpenSplit_LoadsAndDecodesEveryRow(string split, int rows, int minW, int maxW, int minH, int maxH, int rowsOutside, int pointsOutside)
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, split);
        dataset.Count.Should().Be(rows);
        dataset.Problems.Should().BeEmpty();

        var sizes = new (int W, int H)[rows];
        var outside = new int[rows];
        Parallel.For(0, rows, i =>
        {
            var sample = dataset.Load(i);
            sample.Image.Pixels.Length.Should().Be(sample.Image.Width * sample.Image.Height * 3);
            sizes[i] = (sample.Image.Width, sample.Image.Height);
            for (int p = 0; p < sample.PointCount; p++)
            {
                float x = sample.Keypoints[2 * p], y = sample.Keypoints[(2 * p) + 1];
                if (x < 0 || y < 0 || x > sample.Image.Width - 1 || y > sample.Image.Height - 1)
                {
                    outside[i]++;
                }
            }
        });

        sizes.Min(s => s.W).Should().Be(minW);
        sizes.Max(s => s.W).Should().Be(maxW);
        sizes.Min(s => s.H).Should().Be(minH);
        sizes.Max(s => s.H).Should().Be(maxH);
        outside.Count(n => n > 0).Should().Be(rowsOutside);
        outside.Sum().Should().Be(pointsOutside);
        DatasetSplits.Identities(dataset).Distinct().Should().HaveCount(347);
    }

    [Fact]
    public void Training_SubjectsRightEyeIsOnImageLeftInEveryRow()
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        dataset.Records.Should().OnlyContain(r => r.Keypoints[2 * 36] < r.Keypoints[2 * 45] && r.Keypoints[0] < r.Keypoints[2 * 16]);
    }

    [Fact]
    public void Training_InterOcularDistanceMatchesReadme()
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        var distances = dataset.Records.Select(r => dataset.Scheme.NormalisingDistance(r.Keypoints)).Order().ToArray();
        distances[0].Should().BeApproximately(11.0, 0.05);
        distances[^1].Should().BeApproximately(130.1, 0.05);
        distances.Average().Should().BeApproximately(47.1, 0.05);
    }
}
