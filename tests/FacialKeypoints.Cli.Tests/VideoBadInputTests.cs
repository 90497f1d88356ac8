using System.Diagnostics;
using FacialKeypoints.Cli;
using FacialKeypoints.Cli.Video;
using FacialKeypoints.Inference;

namespace FacialKeypoints.Cli.Tests;

/// <summary>
/// fkp video on the bad videos of the catalogue (docs/reliability.md), made with ffmpeg: zero frames, a stream with no
/// video track, frames whose size changes mid-stream. Each gives a correct result or a <see cref="VideoException"/>
/// naming the file; nothing else escapes.
/// </summary>
[Collection("console")]
public sealed class VideoBadInputTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, true);

    private string Make(string name, params string[] ffmpegArgs)
    {
        string path = Path.Combine(folder, name);
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in (string[])["-v", "error", "-y", .. ffmpegArgs, path])
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return path;
    }

    private (int? Code, VideoException? Error) Run(string input, string csv)
    {
        using var progress = ConsoleProgress.Create(quiet: true);
        var previous = Console.Error;
        Console.SetError(TextWriter.Null);
        try
        {
            return (VideoCommand.Run(new VideoSettings(input, false, Path.Combine(folder, "out.mp4"), csv, RedetectEvery: 5, MaxFrames: int.MaxValue, new FacePipelineOptions { Expression = false }), progress), null);
        }
        catch (VideoException e)
        {
            e.Message.Should().Contain(Path.GetFileName(input));
            return (null, e);
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    [Fact]
    public void Video_AudioOnly_FailsNamingIt()
    {
        string audio = Make("sound.mp4", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac");
        File.Exists(audio).Should().BeTrue();

        var error = Run(audio, Path.Combine(folder, "f.csv")).Error;
        output.WriteLine(error?.Message ?? "no error");
        error.Should().NotBeNull();
    }

    [Fact]
    public void Video_ZeroFrames_EmptyResultOrNamedError()
    {
        string empty = Make("empty.mp4", "-f", "lavfi", "-i", "color=c=gray:s=160x120:d=1", "-frames:v", "0", "-c:v", "mpeg4");

        var (code, error) = Run(empty, Path.Combine(folder, "f.csv"));
        output.WriteLine(error?.Message ?? $"exit {code}");

        if (error is null)
        {
            code.Should().Be(0);
            File.ReadAllLines(Path.Combine(folder, "f.csv")).Should().HaveCountLessThanOrEqualTo(1, "no frame, no row");
        }
    }

    [Fact]
    public void Video_FrameSizeChangesMidStream_EveryFrameOrNamedError()
    {
        // Two MPEG-2 transport streams of different sizes, concatenated byte for byte (as a capture that changes resolution).
        string a = Make("a.ts", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=1", "-c:v", "mpeg2video");
        string b = Make("b.ts", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1", "-c:v", "mpeg2video");
        string mixed = Path.Combine(folder, "mixed.ts");
        File.WriteAllBytes(mixed, [.. File.ReadAllBytes(a), .. File.ReadAllBytes(b)]);
        string csv = Path.Combine(folder, "f.csv");

        var (code, error) = Run(mixed, csv);
        output.WriteLine(error?.Message ?? $"exit {code}");

        if (error is null)
        {
            code.Should().BeOneOf(0, 1);
            // The output keeps the first size and every frame of both parts (no face in them, so the CSV has none).
            Ffmpeg.Probe(Path.Combine(folder, "out.mp4")).Should().Match<VideoInfo>(v => v.Width == 320 && v.Height == 240 && v.FrameCount == 20);
        }
    }
}
