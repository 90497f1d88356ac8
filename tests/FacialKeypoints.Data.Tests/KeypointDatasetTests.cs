using System.Globalization;

namespace FacialKeypoints.Data.Tests;

public sealed class KeypointDatasetTests
{
    private static readonly string Header = "," + string.Join(",", Enumerable.Range(0, 136));

    private static string Row(string name, float value = 45.0f, int fields = 136) =>
        name + "," + string.Join(",", Enumerable.Repeat(value.ToString("0.0", CultureInfo.InvariantCulture), fields));

    [Fact]
    public void Open_MissingImage_NamesCsvLineAndImage()
    {
        string dir = FacialKeypoints.Tests.TestEnvironment.NewTempDirectory();
        try
        {
            string csv = Path.Combine(dir, "points.csv");
            File.WriteAllText(csv, $"{Header}\n{Row("gone_01.jpg")}\n");
            FluentActions.Invoking(() => KeypointDataset.Open(csv, dir)).Should().Throw<KeypointCsvException>()
                .WithMessage($"{csv}:2: image 'gone_01.jpg' is not in*");
            KeypointDataset.Open(csv, dir, new KeypointDatasetOptions { BadRows = BadRowPolicy.SkipAndReport }).Problems.Should().ContainSingle();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
