using System.Diagnostics;
using System.Globalization;
using FacialKeypoints.Inference.Runtime;
using Xunit.Abstractions;

namespace FacialKeypoints.Inference.Tests.Measurements;

/// <summary>Opt-in (FKP_MEASURE=1): the pieces of one face's path, each timed alone.</summary>
public sealed class SubStageMeasurements(ITestOutputHelper output)
{
    [MeasurementFact]
    public void Pieces_TestCrops()
    {
        var images = Enumerable.Range(0, 100).Select(i => ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "test", TestImages.Rows[i].Name))).ToArray();
        using var detector = OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorFront128), "d", 1);
        using var landmarks = OnnxNetwork.Open(ShippedModels.Read(ShippedModels.LandmarksInt8), "l", 1);
        var detIn = new float[128 * 128 * 3];
        var lmIn = new float[3 * 160 * 160];
        void Time(string name, Action<RgbImage> action)
        {
            foreach (var image in images.Take(10))
            {
                action(image);
            }

            var clock = Stopwatch.StartNew();
            foreach (var image in images)
            {
                action(image);
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {clock.Elapsed.TotalMilliseconds / images.Length:0.000} ms"));
        }

        Time("WarpSource", i => new WarpSource(i).Dispose());
        Time("WarpSource + warp 128", i =>
        {
            using var s = new WarpSource(i);
            s.Warp(128, 128, AffineMatrix.Scaling(128f / i.Width, 128f / i.Height));
        });
        Time("WarpSource + warp 128 + warp 160", i =>
        {
            using var s = new WarpSource(i);
            s.Warp(128, 128, AffineMatrix.Scaling(128f / i.Width, 128f / i.Height));
            s.Warp(160, 160, AffineMatrix.Scaling(160f / i.Width, 160f / i.Height));
        });
        var crop = new RgbImage(160, 160);
        Time("planar 160", _ => PixelTensor.WritePlanar(crop, lmIn, [0.5f, 0.5f, 0.5f], [0.2f, 0.2f, 0.2f]));
        Time("detector run", _ => detector.RunAll(detIn, [1, 128, 128, 3]));
        Time("landmarks int8 run", _ => landmarks.Run(lmIn, [1, 3, 160, 160]));
    }
}
