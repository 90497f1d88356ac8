using System.Globalization;
using FacialKeypoints.Inference.Detection;
using FacialKeypoints.Inference.Runtime;
using Xunit.Abstractions;

namespace FacialKeypoints.Inference.Tests.Measurements;

/// <summary>Opt-in (FKP_MEASURE=1): the smallest face each BlazeFace model finds, as a fraction of the image's longer side.</summary>
public sealed class DetectorSizeMeasurements(ITestOutputHelper output)
{
    [MeasurementFact]
    public void FoundFraction_ByFaceWidthOverImageSide()
    {
        using var front = new BlazeFaceDetector(OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorFront128), "front", 1), FaceFraming.Training);
        using var back = new BlazeFaceDetector(OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorBack256), "back", 1), FaceFraming.Training);
        foreach (float fraction in new[] { 0.04f, 0.06f, 0.08f, 0.10f, 0.13f, 0.16f, 0.2f, 0.3f })
        {
            int foundFront = 0, foundBack = 0, n = 0;
            for (int row = 0; row < 400; row += 20)
            {
                var (scene, truth) = TestImages.Scene(640, 480, (row, 200, 120, fraction * 640));
                using var source = new WarpSource(scene);
                var box = FaceBox.Around(truth[0]);
                foundFront += front.Detect(source, 0.5f, 5).Any(d => d.Box.IntersectionOverUnion(box) > 0.2f) ? 1 : 0;
                foundBack += back.Detect(source, 0.5f, 5).Any(d => d.Box.IntersectionOverUnion(box) > 0.2f) ? 1 : 0;
                n++;
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"face width {fraction:0.00} of 640 px: front {foundFront}/{n}, back {foundBack}/{n}"));
        }
    }
}
