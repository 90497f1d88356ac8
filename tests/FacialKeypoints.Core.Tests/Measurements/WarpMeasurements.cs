using System.Diagnostics;
using System.Globalization;
using SkiaSharp;
using Xunit.Abstractions;

namespace FacialKeypoints.Core.Tests.Measurements;

/// <summary>Opt-in (FKP_MEASURE=1): the cached-level resampler against Skia's own linear mipmaps (rebuilt per draw), in pixels and time.</summary>
public sealed class WarpMeasurements(ITestOutputHelper output)
{
    [MeasurementFact]
    public void CachedLevels_AgainstSkiaMipmaps()
    {
        var rows = KeypointCsvReader.Read(Path.Combine(TestEnvironment.KeypointData, "test_frames_keypoints.csv"), LandmarkScheme.Ibug68).Records;
        double difference = 0, skiaMs = 0, oursMs = 0;
        int n = 0;
        foreach (var row in rows.Take(100))
        {
            var image = ImageDecoder.Decode(Path.Combine(TestEnvironment.KeypointData, "test", row.Name));
            foreach (int size in new[] { 160, 128, 64 })
            {
                var map = AffineMatrix.Scaling((float)size / image.Width, (float)size / image.Height);
                long start = Stopwatch.GetTimestamp();
                var skia = SkiaMipmapWarp(image, size, map);
                skiaMs += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                start = Stopwatch.GetTimestamp();
                using var source = new WarpSource(image);
                var ours = source.Warp(size, size, map);
                oursMs += Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                difference += skia.Pixels.Zip(ours.Pixels, (a, b) => Math.Abs(a - b)).Average();
                n++;
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean absolute difference {difference / n:0.000} of 255; Skia {skiaMs / n:0.00} ms, cached levels {oursMs / n:0.00} ms per warp"));
    }

    private static RgbImage SkiaMipmapWarp(RgbImage source, int size, AffineMatrix map)
    {
        var rgba = new byte[source.Width * source.Height * 4];
        for (int i = 0, j = 0; i < source.Pixels.Length; i += 3, j += 4)
        {
            (rgba[j], rgba[j + 1], rgba[j + 2], rgba[j + 3]) = (source.Pixels[i], source.Pixels[i + 1], source.Pixels[i + 2], 255);
        }

        using var image = SKImage.FromPixelCopy(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Premul), rgba);
        using var surface = SKSurface.Create(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        var matrix = new SKMatrix(map.A, map.B, map.C, map.D, map.E, map.F, 0, 0, 1);
        surface.Canvas.Clear(SKColors.Black);
        surface.Canvas.SetMatrix(in matrix);
        surface.Canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        surface.ReadPixels(bitmap.Info, bitmap.GetPixels(), bitmap.RowBytes, 0, 0);
        var bytes = bitmap.Bytes;
        var rgb = new byte[size * size * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            (rgb[j], rgb[j + 1], rgb[j + 2]) = (bytes[i], bytes[i + 1], bytes[i + 2]);
        }

        return new RgbImage(size, size, rgb);
    }
}
