using System.Diagnostics;

namespace FacialKeypoints.Inference;

/// <summary>
/// Time spent in each stage of <see cref="FacePipeline"/> calls, summed over the calls it is passed to (for
/// profiling and the video command's report). Safe to share between threads.
/// </summary>
public sealed class PipelineTimings
{
    private long detection;
    private long landmarks;
    private long expression;
    private long calls;
    private long faces;

    /// <summary>Letterboxing and running the detector, decoding and merging its boxes.</summary>
    public TimeSpan Detection => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref detection));

    /// <summary>Cropping every face onto the landmark network's input, running it, mapping back.</summary>
    public TimeSpan Landmarks => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref landmarks));

    /// <summary>Cropping every face by its landmarks and classifying its expression.</summary>
    public TimeSpan Expression => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref expression));

    /// <summary>The number of pipeline calls (images or frames).</summary>
    public long Calls => Interlocked.Read(ref calls);

    /// <summary>The number of faces those calls returned.</summary>
    public long Faces => Interlocked.Read(ref faces);

    internal void AddDetection(long start) => Interlocked.Add(ref detection, Stopwatch.GetTimestamp() - start);

    internal void AddLandmarks(long start) => Interlocked.Add(ref landmarks, Stopwatch.GetTimestamp() - start);

    internal void AddExpression(long start) => Interlocked.Add(ref expression, Stopwatch.GetTimestamp() - start);

    internal void AddCall(int faceCount)
    {
        Interlocked.Increment(ref calls);
        Interlocked.Add(ref faces, faceCount);
    }
}
