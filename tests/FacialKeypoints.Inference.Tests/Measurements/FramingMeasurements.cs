using FacialKeypoints.Inference.Detection;
using FacialKeypoints.Inference.Runtime;
using Xunit.Abstractions;

namespace FacialKeypoints.Inference.Tests.Measurements;

/// <summary>
/// Opt-in measurements behind the constants of <c>FaceRegions</c> (run with FKP_MEASURE=1; see docs/dataset.md):
/// how far the training images' borders lie from BlazeFace's box, as medians over the training rows.
/// </summary>
public sealed class FramingMeasurements(ITestOutputHelper output)
{
    [MeasurementTheory]
    [InlineData(ShippedModels.DetectorFront128)]
    [InlineData(ShippedModels.DetectorBack256)]
    public void DetectorBox_TrainingRows_MarginMedians(string model)
    {
        var rows = KeypointCsvReader.Read(Path.Combine(TestEnvironment.KeypointData, "training_frames_keypoints.csv"), LandmarkScheme.Ibug68).Records;
        using var detector = new BlazeFaceDetector(OnnxNetwork.Open(ShippedModels.Read(model), model, 1), FaceFraming.Training);
        var left = new List<float>();
        var right = new List<float>();
        var top = new List<float>();
        var bottom = new List<float>();
        int missed = 0;
        foreach (var row in rows)
        {
            var image = ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "training", row.Name));
            using var source = new WarpSource(image);
            var found = detector.Detect(source, 0.5f, 1);
            if (found.Count == 0)
            {
                missed++;
                continue;
            }

            var box = found[0].Box;
            left.Add(box.X / box.Width);
            right.Add((image.Width - box.Right) / box.Width);
            top.Add(box.Y / box.Height);
            bottom.Add((image.Height - box.Bottom) / box.Height);
        }

        static float Median(List<float> values) => values.Order().ElementAt(values.Count / 2);
        output.WriteLine($"{model}: rows {rows.Count}, found {left.Count}, missed {missed}");
        output.WriteLine($"median margins: left {Median(left):0.000} right {Median(right):0.000} top {Median(top):0.000} bottom {Median(bottom):0.000}");
        missed.Should().BeLessThan(rows.Count / 10);
    }
}
