using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace FacialKeypoints.Inference.Tests.Measurements;

/// <summary>Opt-in (FKP_MEASURE=1): time per stage of the default pipeline over test crops, by thread count.</summary>
public sealed class StageMeasurements(ITestOutputHelper output)
{
    [MeasurementTheory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(1, true)]
    public void Stages_TestCrops(int threads, bool flip)
    {
        var images = Enumerable.Range(0, 200).Select(i => ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "test", TestImages.Rows[i].Name))).ToArray();
        using var pipeline = new FacePipeline(new FacePipelineOptions { Expression = false, Threads = threads, FlipAverage = flip });
        foreach (var image in images.Take(20))
        {
            pipeline.Process(image);
        }

        var timings = new PipelineTimings();
        long decode = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (image, i) in images.Select((m, i) => (m, i)))
        {
            long start = Stopwatch.GetTimestamp();
            ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "test", TestImages.Rows[i].Name));
            decode += Stopwatch.GetTimestamp() - start;
            pipeline.Process(image, timings);
        }

        double n = images.Length;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"threads {threads} flip {flip}: decode {Stopwatch.GetElapsedTime(0, decode).TotalMilliseconds / n:0.00} ms, detect {timings.Detection.TotalMilliseconds / n:0.00} ms, landmarks {timings.Landmarks.TotalMilliseconds / n:0.00} ms, total {clock.Elapsed.TotalMilliseconds / n:0.00} ms per image"));
    }
}
