using BenchmarkDotNet.Attributes;
using FacialKeypoints.Inference.Detection;
using FacialKeypoints.Inference.Drawing;
using FacialKeypoints.Inference.Landmarks;
using FacialKeypoints.Inference.Runtime;
using SkiaSharp;

namespace FacialKeypoints.Inference.Benchmarks;

/// <summary>Decoding a test crop (PNG, about 200 px) and a 1280x720 PNG.</summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private byte[] crop = [];
    private byte[] scene = [];

    [GlobalSetup]
    public void Setup()
    {
        crop = File.ReadAllBytes(Inputs.CropPaths(1)[0]);
        string path = Path.Combine(Path.GetTempPath(), "fkp-benchmarks-scene.png");
        Core.Drawing.KeypointOverlay.SavePng(Inputs.Scene(), path);
        scene = File.ReadAllBytes(path);
    }

    [Benchmark]
    public RgbImage Crop() => ImageDecoder.Decode(crop, "crop");

    [Benchmark]
    public RgbImage Scene1280x720() => ImageDecoder.Decode(scene, "scene");
}

/// <summary>BlazeFace: the front model on a test crop, the back model (with tiles) on a 1280x720 scene.</summary>
[MemoryDiagnoser]
public class DetectBenchmarks
{
    private BlazeFaceDetector front = null!;
    private BlazeFaceDetector back = null!;
    private RgbImage crop = null!;
    private RgbImage scene = null!;

    [GlobalSetup]
    public void Setup()
    {
        front = new BlazeFaceDetector(OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorFront128), "front", 1), FaceRegions.BlazeFaceFront);
        back = new BlazeFaceDetector(OnnxNetwork.Open(ShippedModels.Read(ShippedModels.DetectorBack256), "back", 1), FaceRegions.BlazeFaceBack);
        crop = Inputs.Crops(1)[0];
        scene = Inputs.Scene();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        front.Dispose();
        back.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int FrontOnCrop()
    {
        using var source = new WarpSource(crop);
        return front.Detect(source, 0.5f, 10).Count;
    }

    [Benchmark]
    public int BackOnCrop()
    {
        using var source = new WarpSource(crop);
        return back.Detect(source, 0.5f, 10).Count;
    }

    [Benchmark]
    public int BackOnScene1280x720Tiled()
    {
        using var source = new WarpSource(scene);
        return back.Detect(source, 0.5f, 10).Count;
    }
}

/// <summary>One face onto the 160 px network input: the library's resampler (mip levels kept) against Skia's linear mipmaps, which rebuild them on every draw.</summary>
[MemoryDiagnoser]
public class CropBenchmarks
{
    private RgbImage crop = null!;
    private AffineMatrix map;

    [GlobalSetup]
    public void Setup()
    {
        crop = Inputs.Crops(1)[0];
        map = AffineMatrix.Scaling(160f / crop.Width, 160f / crop.Height);
    }

    [Benchmark(Baseline = true)]
    public RgbImage SkiaMipmaps()
    {
        var rgba = new byte[crop.Width * crop.Height * 4];
        for (int i = 0, j = 0; i < crop.Pixels.Length; i += 3, j += 4)
        {
            (rgba[j], rgba[j + 1], rgba[j + 2], rgba[j + 3]) = (crop.Pixels[i], crop.Pixels[i + 1], crop.Pixels[i + 2], 255);
        }

        using var image = SKImage.FromPixelCopy(new SKImageInfo(crop.Width, crop.Height, SKColorType.Rgba8888, SKAlphaType.Premul), rgba);
        using var surface = SKSurface.Create(new SKImageInfo(160, 160, SKColorType.Rgba8888, SKAlphaType.Premul));
        var matrix = new SKMatrix(map.A, map.B, map.C, map.D, map.E, map.F, 0, 0, 1);
        surface.Canvas.SetMatrix(in matrix);
        surface.Canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        var pixels = new byte[160 * 160 * 4];
        unsafe
        {
            fixed (byte* p = pixels)
            {
                surface.ReadPixels(new SKImageInfo(160, 160, SKColorType.Rgba8888, SKAlphaType.Premul), (IntPtr)p, 640, 0, 0);
            }
        }

        return new RgbImage(160, 160, [.. pixels.Where((_, i) => i % 4 != 3)]);
    }

    [Benchmark]
    public RgbImage LibraryWarp()
    {
        using var source = new WarpSource(crop);
        return source.Warp(160, 160, map);
    }
}

/// <summary>Drawing the faces of a 640x480 frame (boxes, landmarks, regions, tags).</summary>
[MemoryDiagnoser]
public class DrawBenchmarks
{
    private RgbImage frame = null!;
    private IReadOnlyList<FaceResult> faces = [];

    [GlobalSetup]
    public void Setup()
    {
        frame = ImageWarp.Warp(Inputs.Scene(), 640, 480, AffineMatrix.Scaling(0.5f, 480f / 720));
        using var pipeline = new FacePipeline(new FacePipelineOptions { Expression = false });
        faces = pipeline.Process(frame);
    }

    [Benchmark]
    public RgbImage Overlay640x480() => FaceOverlay.Draw(frame, faces);
}
