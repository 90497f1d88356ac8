using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace FacialKeypoints.Inference.Tests.Reliability;

/// <summary>
/// One <see cref="FacePipeline"/> shared by 8 threads making 10,000 single-image predictions (docs/reliability.md):
/// no exception, every result bit-identical to the sequential one for the same image, throughput reported, and
/// resident memory (after a collection at the end, and the trend of the samples taken through the run) must not
/// grow by more than 50 MB after warm-up. Runs alone, after the
/// other test classes, so their allocations do not show in its memory samples.
/// </summary>
[Collection(Alone)]
public sealed class ConcurrentLoadTests(ITestOutputHelper output)
{
    public const int Predictions = 10_000;
    public const int Threads = 8;
    public const int DistinctImages = 40;
    public const long GrowthBoundBytes = 50L << 20;
    public const string Alone = "alone: process-wide measurements";

    [Fact]
    public void Process_EightThreadsTenThousandPredictions_SameAsSequentialAndFlatMemory()
    {
        using var pipeline = new FacePipeline(new FacePipelineOptions { Expression = false, Threads = 1 });
        var images = Enumerable.Range(0, DistinctImages).Select(i => TestImages.Face(i * 17 % TestImages.Rows.Count).Image).ToArray();
        var sequentialClock = Stopwatch.StartNew();
        var expected = images.Select(image => pipeline.Process(image)).ToArray();
        double sequentialPerImage = sequentialClock.Elapsed.TotalMilliseconds / DistinctImages;
        expected.Should().OnlyContain(faces => faces.Count >= 1);

        // Eight dedicated threads (not the pool, whose threads come and go and each get a fresh malloc arena), each
        // warmed up before the baseline is taken, then 1,250 predictions each.
        var mismatches = new ConcurrentBag<string>();
        var errors = new ConcurrentBag<Exception>();
        var samples = new ConcurrentQueue<(int Done, long Rss)>();
        int done = 0;
        using var warm = new Barrier(Threads + 1);
        using var go = new Barrier(Threads + 1);
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                for (int i = 0; i < 50; i++)
                {
                    pipeline.Process(images[(i + t) % DistinctImages]);
                }

                warm.SignalAndWait();
                go.SignalAndWait();
                for (int i = t; i < Predictions; i += Threads)
                {
                    int which = i % DistinctImages;
                    if (!Same(pipeline.Process(images[which]), expected[which]))
                    {
                        mismatches.Add($"prediction {i} (image {which})");
                    }

                    int finished = Interlocked.Increment(ref done);
                    if (finished % 500 == 0)
                    {
                        samples.Enqueue((finished, Environment.WorkingSet));
                    }
                }
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        warm.SignalAndWait();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long baseline = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        go.SignalAndWait();
        workers.ForEach(w => w.Join());
        double seconds = clock.Elapsed.TotalSeconds;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long final = Environment.WorkingSet;

        output.WriteLine($"{Predictions} predictions on {Threads} threads (one ONNX Runtime thread each) in {seconds:F1} s: {Predictions / seconds:F0} images/s; sequential {sequentialPerImage:F1} ms per image ({1000 / sequentialPerImage:F0} images/s)");
        output.WriteLine($"resident memory after warm-up {baseline >> 20} MB, at the end {final >> 20} MB, peak {samples.Max(s => s.Rss) >> 20} MB; samples (done: MB) {string.Join(", ", samples.OrderBy(s => s.Done).Select(s => $"{s.Done}: {s.Rss >> 20}"))}");
        errors.Should().BeEmpty();
        mismatches.Should().BeEmpty();
        done.Should().Be(Predictions);
        (final - baseline).Should().BeLessThan(GrowthBoundBytes, "resident memory must stay flat after warm-up");
        // Samples taken mid-run include garbage not yet collected (peaks swing by tens of MB), so the trend is what
        // counts: the last five samples may not sit more than the bound above the first five.
        var ordered = samples.OrderBy(s => s.Done).Select(s => (double)s.Rss).ToArray();
        (ordered.TakeLast(5).Average() - ordered.Take(5).Average()).Should().BeLessThan(GrowthBoundBytes);
    }

    private static bool Same(IReadOnlyList<FaceResult> actual, IReadOnlyList<FaceResult> expected) =>
        actual.Count == expected.Count && actual.Zip(expected).All(p =>
            p.First.Landmarks.AsSpan().SequenceEqual(p.Second.Landmarks)
            && p.First.Score == p.Second.Score
            && p.First.Box == p.Second.Box
            && p.First.Expression?.Label == p.Second.Expression?.Label
            && (p.First.Expression?.Probabilities ?? []).AsSpan().SequenceEqual(p.Second.Expression?.Probabilities ?? [])
            && (p.First.Expression?.EmotionProbabilities ?? []).AsSpan().SequenceEqual(p.Second.Expression?.EmotionProbabilities ?? []));
}

/// <summary>Test classes that measure the whole process run in this collection, with nothing beside them.</summary>
[CollectionDefinition(ConcurrentLoadTests.Alone, DisableParallelization = true)]
public sealed class AloneCollection;
