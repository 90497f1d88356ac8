using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace FacialKeypoints.Cli.Video;

/// <summary>A video stream's size and rate, as ffprobe reports them.</summary>
/// <param name="Width">Frame width in pixels.</param>
/// <param name="Height">Frame height in pixels.</param>
/// <param name="FramesPerSecond">Frame rate.</param>
/// <param name="FrameCount">Frames, when the container states it (0 when unknown).</param>
internal sealed record VideoInfo(int Width, int Height, double FramesPerSecond, int FrameCount);

/// <summary>A video that ffmpeg could not read or write; the message names the file.</summary>
internal sealed class VideoException(string message) : IOException(message);

/// <summary>
/// ffmpeg and ffprobe as child processes (Debian's <c>ffmpeg</c> package): frames travel as raw RGB24 through
/// pipes, so decoding and encoding run in their own processes, beside our networks.
/// </summary>
internal static class Ffmpeg
{
    /// <summary>Reads the first video stream's size, rate and frame count.</summary>
    /// <exception cref="VideoException">The file is missing, unreadable, or has no video stream.</exception>
    public static VideoInfo Probe(string path)
    {
        if (!File.Exists(path))
        {
            throw new VideoException($"{path}: the file does not exist");
        }

        var (code, output, errors) = RunToEnd("ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_packets",
            "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate,nb_read_packets", "-of", "default=noprint_wrappers=1", path]);
        var fields = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);
        if (code != 0 || !fields.ContainsKey("width"))
        {
            string reason = code != 0 ? FirstLine(errors) : "it has no video stream";
            throw new VideoException($"{path}: not a readable video ({reason})");
        }

        int width = int.Parse(fields["width"], CultureInfo.InvariantCulture), height = int.Parse(fields["height"], CultureInfo.InvariantCulture);
        double fps = Rate(fields.GetValueOrDefault("avg_frame_rate")) is > 0 and var average ? average : Rate(fields.GetValueOrDefault("r_frame_rate"));
        int frames = int.TryParse(fields.GetValueOrDefault("nb_read_packets"), CultureInfo.InvariantCulture, out int n) ? n : 0;
        if (width <= 0 || height <= 0)
        {
            throw new VideoException($"{path}: the video stream has no frame size");
        }

        return new VideoInfo(width, height, fps > 0 ? fps : 25, frames);
    }

    /// <summary>Starts a process with the given arguments and redirected streams.</summary>
    /// <exception cref="VideoException">The program is not installed.</exception>
    public static Process Start(string program, IEnumerable<string> arguments, bool input, bool output)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = input,
            RedirectStandardOutput = output,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(start) ?? throw new VideoException($"{program} could not be started");
        }
        catch (Win32Exception)
        {
            throw new VideoException($"{program} was not found on PATH: install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg)");
        }
    }

    internal static string FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no message";

    private static (int Code, string Output, string Errors) RunToEnd(string program, IEnumerable<string> arguments)
    {
        using var process = Start(program, arguments, input: false, output: true);
        var errors = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, errors.Result);
    }

    private static double Rate(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var parts = text.Split('/');
        return parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out double a) && double.TryParse(parts[1], CultureInfo.InvariantCulture, out double b) && b > 0
            ? a / b
            : double.TryParse(text, CultureInfo.InvariantCulture, out double v) ? v : 0;
    }
}

/// <summary>Decodes a video (or a camera through v4l2) into RGB frames of one size.</summary>
internal sealed class VideoReader : IDisposable
{
    private readonly Process process;
    private readonly Stream stream;
    private readonly Task<string> errors;
    private readonly string source;

    public VideoReader(string source, int width, int height, bool camera = false)
    {
        this.source = source;
        Width = width;
        Height = height;
        IEnumerable<string> input = camera ? ["-f", "v4l2", "-i", source] : ["-i", source];
        process = Ffmpeg.Start("ffmpeg", ["-v", "error", "-nostdin", .. input, "-an", "-vf", $"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], input: false, output: true);
        stream = process.StandardOutput.BaseStream;
        errors = process.StandardError.ReadToEndAsync();
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The next frame, or null at the end of the stream.</summary>
    /// <exception cref="VideoException">ffmpeg failed before the end (a truncated or broken file).</exception>
    public RgbImage? Next()
    {
        var pixels = new byte[Width * Height * 3];
        int read = 0;
        while (read < pixels.Length)
        {
            int n = stream.Read(pixels, read, pixels.Length - read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        if (read == pixels.Length)
        {
            return new RgbImage(Width, Height, pixels);
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new VideoException($"{source}: decoding stopped ({Ffmpeg.FirstLine(errors.Result)})");
        }

        return null;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
        }

        process.Dispose();
    }
}

/// <summary>Encodes RGB frames to H.264 (libx264, ultrafast) in an MP4 file.</summary>
internal sealed class VideoWriter : IDisposable
{
    private readonly Process process;
    private readonly Stream stream;
    private readonly Task<string> errors;
    private readonly string path;
    private bool closed;

    public VideoWriter(string path, int width, int height, double fps)
    {
        this.path = path;
        string rate = fps.ToString("0.###", CultureInfo.InvariantCulture);
        process = Ffmpeg.Start("ffmpeg", ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{width}x{height}", "-r", rate, "-i", "-",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", path], input: true, output: false);
        stream = process.StandardInput.BaseStream;
        errors = process.StandardError.ReadToEndAsync();
    }

    public void Write(RgbImage frame)
    {
        try
        {
            stream.Write(frame.Pixels);
        }
        catch (IOException)
        {
            throw new VideoException($"{path}: encoding stopped ({Ffmpeg.FirstLine(errors.Result)})");
        }
    }

    /// <summary>Finishes the file.</summary>
    public void Close()
    {
        if (closed)
        {
            return;
        }

        closed = true;
        stream.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new VideoException($"{path}: encoding failed ({Ffmpeg.FirstLine(errors.Result)})");
        }
    }

    public void Dispose()
    {
        if (!closed && !process.HasExited)
        {
            process.Kill();
        }

        process.Dispose();
    }
}
