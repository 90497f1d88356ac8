using FacialKeypoints.Cli;
using FacialKeypoints.Cli.Video;
using FacialKeypoints.Inference;

namespace FacialKeypoints.Cli.Tests;

/// <summary>fkp video on clips the test makes (a test crop moving over a grey canvas); needs Debian's ffmpeg.</summary>
[Collection("console")]
public sealed class VideoCommandTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, true);

    /// <summary>Writes a clip of <paramref name="frames"/> frames; returns its path and each frame's true landmarks.</summary>
    private (string Path, float[][] Truth) Clip(int frames, int width = 320, int height = 240)
    {
        var record = KeypointCsvReader.Read(Path.Combine(TestEnvironment.KeypointData, "test_frames_keypoints.csv"), LandmarkScheme.Ibug68).Records[12];
        var face = ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "test", record.Name));
        float scale = 150f / face.Height;
        string path = Path.Combine(folder, "clip.mp4");
        var truth = new float[frames][];
        using (var writer = new VideoWriter(path, width, height, 10))
        {
            for (int f = 0; f < frames; f++)
            {
                var map = AffineMatrix.Then(AffineMatrix.Scaling(scale, scale), AffineMatrix.Translation(40 + (3 * f), 30 + f));
                var frame = ImageWarp.Warp(face, width, height, map);
                writer.Write(frame);
                truth[f] = map.MapKeypoints(record.Keypoints);
            }

            writer.Close();
        }

        return (path, truth);
    }

    private static VideoSettings Settings(string input, string output, string? csv = null) =>
        new(input, false, output, csv, RedetectEvery: 5, MaxFrames: int.MaxValue, new FacePipelineOptions { Expression = false });

    private static int Run(VideoSettings settings)
    {
        using var progress = ConsoleProgress.Create(quiet: true);
        var previous = Console.Error;
        Console.SetError(TextWriter.Null);
        try
        {
            return VideoCommand.Run(settings, progress);
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    [Fact]
    public void Video_MovingFace_EveryFrameHasItsLandmarksAndTheOutputHasEveryFrame()
    {
        var (clip, truth) = Clip(20);
        string output = Path.Combine(folder, "out.mp4"), csv = Path.Combine(folder, "frames.csv");

        Run(Settings(clip, output, csv)).Should().Be(0);

        Ffmpeg.Probe(output).Should().Match<VideoInfo>(v => v.Width == 320 && v.Height == 240 && v.FrameCount == 20);
        var lines = File.ReadAllLines(csv);
        lines[0].Should().StartWith("frame,x0,y0,").And.Contain(",expression,");
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToArray();
        rows.Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).Should().BeEquivalentTo(Enumerable.Range(0, 20));
        foreach (var row in rows)
        {
            int frame = int.Parse(row[0], System.Globalization.CultureInfo.InvariantCulture);
            var points = row[1..137].Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            double error = Enumerable.Range(0, 68).Average(i => Math.Sqrt(Math.Pow(points[2 * i] - truth[frame][2 * i], 2) + Math.Pow(points[(2 * i) + 1] - truth[frame][(2 * i) + 1], 2)));
            (error / LandmarkScheme.Ibug68.NormalisingDistance(truth[frame])).Should().BeLessThan(0.15, $"frame {frame} follows the moving face");
        }
    }

    [Fact]
    public void Video_TruncatedFile_FailsNamingIt()
    {
        var (clip, _) = Clip(20);
        var bytes = File.ReadAllBytes(clip);
        string broken = Path.Combine(folder, "truncated.mp4");
        File.WriteAllBytes(broken, bytes[..(bytes.Length / 3)]);

        FluentActions.Invoking(() => Run(Settings(broken, Path.Combine(folder, "o.mp4")))).Should().Throw<VideoException>().WithMessage("*truncated.mp4*");
    }

    [Fact]
    public void Video_NotAVideo_FailsNamingIt()
    {
        string text = Path.Combine(folder, "notes.mp4");
        File.WriteAllText(text, "not a video at all");

        FluentActions.Invoking(() => Run(Settings(text, Path.Combine(folder, "o.mp4")))).Should().Throw<VideoException>().WithMessage("*notes.mp4*");
    }

    [Fact]
    public void Video_MissingFile_FailsNamingIt() =>
        FluentActions.Invoking(() => Run(Settings(Path.Combine(folder, "nothing.mp4"), Path.Combine(folder, "o.mp4"))))
            .Should().Throw<VideoException>().WithMessage("*nothing.mp4*does not exist*");
}
