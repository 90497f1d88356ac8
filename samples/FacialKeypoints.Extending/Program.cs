using System.Diagnostics;
using System.Text.RegularExpressions;
using FacialKeypoints.Data;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Extending;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using TorchSharp;

// A quick self-check of every recipe in Recipes.cs, RandomCutout.cs and LayerNormHead.cs on synthetic images:
// no dataset and no trained model are needed. Exits 0 when every check passes.
TorchRuntime.EnsureInitialized();
torch.manual_seed(1);
var clock = Stopwatch.StartNew();
var scheme = LandmarkScheme.Ibug68;
string temp = Path.Combine(Path.GetTempPath(), $"fkp-extending-{Environment.ProcessId}");
Directory.CreateDirectory(temp);
try
{
    // 1. The custom transform: sampling and applying are separate, keypoints stay, the input is not changed.
    var face = SyntheticFaces.Draw(120, 140, seed: 3);
    var cutout = new RandomCutout(probability: 1, maxSize: 0.4f);
    var parameters = cutout.Sample(face, new Random(7));
    var once = cutout.Apply(face, parameters);
    var twice = cutout.Apply(face, parameters);
    int grey = CountChanged(face.Image, once.Image);
    Check(parameters.Apply && grey > 0 && grey <= parameters.Width * parameters.Height, "the cutout greys out pixels inside its patch only");
    Check(once.Image.Pixels.AsSpan().SequenceEqual(twice.Image.Pixels), "the same parameters give the same pixels");
    Check(once.Keypoints.AsSpan().SequenceEqual(face.Keypoints), "the cutout leaves the keypoints alone");
    Check(face.Image.Pixels.AsSpan().SequenceEqual(SyntheticFaces.Draw(120, 140, seed: 3).Image.Pixels), "the input sample is unchanged");
    Console.WriteLine($"custom transform: RandomCutout drew a {parameters.Width}x{parameters.Height} patch at ({parameters.Left}, {parameters.Top}), {grey} pixels greyed, keypoints unchanged, apply is deterministic");

    // 2. The custom transform in a batch pipeline.
    var loader = Recipes.CreateLoader(new SyntheticFaces(count: 40), inputSize: 64);
    int batches = 0;
    foreach (var batch in loader.Epoch(0))
    {
        using (batch)
        {
            Check(batch.Images.shape.SequenceEqual([batch.Count, 3L, 64, 64]) && batch.Keypoints.shape.SequenceEqual([batch.Count, 136L]), "batches have the expected shapes");
            batches++;
        }
    }

    Console.WriteLine($"custom transform pipeline: {batches} batches of [B, 3, 64, 64] images and [B, 136] keypoints from 40 synthetic faces");

    // 3. The custom head on the ImageNet backbone, saved and loaded back through a head factory.
    var networkClock = Stopwatch.StartNew();
    using (var network = Recipes.CreateNetwork(scheme))
    using (var scope = torch.NewDisposeScope())
    using (torch.no_grad())
    {
        network.eval();
        var images = torch.rand(2, 3, 64, 64);
        var before = network.call(images);
        Check(before.shape.SequenceEqual([2L, 136]), "the custom network predicts [B, 136]");
        string path = Path.Combine(temp, "layernorm-head.safetensors");
        var written = Recipes.Save(path, network, scheme, inputSize: 64);
        using var predictor = Recipes.LoadPredictor(path);
        var after = predictor.Network.call(images);
        float difference = (before - after).abs().max().item<float>();
        Check(difference == 0, "the checkpoint round trip gives the same outputs");
        var prediction = predictor.Predict(face.Image);
        Check(prediction.Keypoints.Length == 136 && prediction.Keypoints.All(float.IsFinite), "the predictor runs the custom network");
        long parameterCount = network.Head.parameters().Sum(p => p.numel());
        Console.WriteLine($"custom head: {written.HeadKind} ({parameterCount:N0} head parameters) on the ImageNet backbone {written.Layout.ToBlocksText()}, built in {networkClock.Elapsed.TotalSeconds:F1} s; checkpoint round trip max difference {difference}; predictor gave {prediction.Keypoints.Length / 2} points");
    }

    // 4. Predict in ten lines, with a randomly initialised network saved as a checkpoint (no trained model needed).
    string modelPath = Path.Combine(temp, "random.safetensors");
    using (var random = new KeypointNetwork(scheme.Count))
    {
        KeypointCheckpoint.Save(modelPath, random, ModelMetadata.ForScheme(scheme, 64, NormalizationSpec.ImageNet));
    }

    string imagePath = Path.Combine(temp, "face.png");
    KeypointOverlay.SavePng(face.Image, imagePath);
    Console.Write("predict: ");
    var direct = Recipes.PredictOne(modelPath, imagePath);

    // 5. The same through dependency injection.
    var injected = Recipes.PredictWithDependencyInjection(modelPath, ImageDecoder.Decode(imagePath));
    float largest = direct.Keypoints.Zip(injected.Keypoints, (a, b) => Math.Abs(a - b)).Max();
    Check(largest < 1e-4f, "the injected predictor gives the same points");
    Console.WriteLine($"dependency injection: resolved KeypointPredictor, same points as the direct predictor (max difference {largest})");

    // 6. The inference package: a photo with two faces made from test crops, then the same photo moving as a video.
    if (TestPhotos.Find() is { } crops)
    {
        string photoPath = Path.Combine(temp, "photo.png");
        KeypointOverlay.SavePng(TestPhotos.Compose(crops, 0), photoPath);
        Console.WriteLine("photo:");
        var faces = InferenceRecipes.FacesInPhoto(photoPath, Path.Combine(temp, "photo-annotated.png"));
        Check(faces.Count >= 2 && faces.All(f => f.Landmarks.Length == 136 && f.Expression is not null), "the photo's two faces get landmarks and an expression");
        int followed = InferenceRecipes.FacesInVideo(Enumerable.Range(0, 12).Select(i => TestPhotos.Compose(crops, 3 * i)));
        Check(followed >= 24, "the tracker follows both faces through 12 frames");
        using var injectedPipeline = InferenceRecipes.FromServices();
        Check(injectedPipeline.Process(ImageDecoder.Decode(photoPath)).Count == faces.Count, "the injected pipeline finds the same faces");
        Console.WriteLine($"inference: {faces.Count} faces in the photo, {followed} faces followed over 12 frames, the same through dependency injection");
    }
    else
    {
        Console.WriteLine("inference: skipped (the keypoint dataset was not found; set FKP_DATA)");
    }

    // 7. The docs quote this project word for word.
    Console.WriteLine(DocSnippets.Check());
    Console.WriteLine($"all checks passed in {clock.Elapsed.TotalSeconds:F1} s");
    return 0;
}
catch (InvalidOperationException e)
{
    Console.Error.WriteLine($"FacialKeypoints.Extending: {e.Message}");
    return 1;
}
finally
{
    Directory.Delete(temp, recursive: true);
}

static void Check(bool condition, string what)
{
    if (!condition)
    {
        throw new InvalidOperationException($"Check failed: {what}.");
    }
}

static int CountChanged(RgbImage a, RgbImage b)
{
    int changed = 0;
    for (int i = 0; i < a.Pixels.Length; i += 3)
    {
        if (a.Pixels[i] != b.Pixels[i] || a.Pixels[i + 1] != b.Pixels[i + 1] || a.Pixels[i + 2] != b.Pixels[i + 2])
        {
            changed++;
        }
    }

    return changed;
}

/// <summary>Face-like synthetic images with 68 keypoints on an ellipse: enough to exercise the pipeline.</summary>
internal sealed class SyntheticFaces(int count) : IFaceDataset
{
    public int Count => count;

    public LandmarkScheme Scheme => LandmarkScheme.Ibug68;

    public static FaceSample Draw(int width, int height, int seed)
    {
        var image = new RgbImage(width, height);
        var random = new Random(seed);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double dx = (x - (width / 2.0)) / (width * 0.35), dy = (y - (height / 2.0)) / (height * 0.4);
                bool skin = (dx * dx) + (dy * dy) < 1;
                int i = ((y * width) + x) * 3;
                image.Pixels[i] = (byte)(skin ? 200 + random.Next(20) : 40 + random.Next(20));
                image.Pixels[i + 1] = (byte)(skin ? 160 + random.Next(20) : 60 + random.Next(20));
                image.Pixels[i + 2] = (byte)(skin ? 130 + random.Next(20) : 90 + random.Next(20));
            }
        }

        var keypoints = new float[136];
        for (int p = 0; p < 68; p++)
        {
            double angle = 2 * Math.PI * p / 68;
            keypoints[2 * p] = (float)((width / 2.0) + (width * 0.3 * Math.Cos(angle)));
            keypoints[(2 * p) + 1] = (float)((height / 2.0) + (height * 0.35 * Math.Sin(angle)));
        }

        return new FaceSample(image, keypoints, new SampleInfo(seed, $"synthetic_{seed:D2}.png", "synthetic", width, height));
    }

    public SampleInfo GetInfo(int index) => new(index, $"synthetic_{index:D2}.png", "synthetic", Width(index), Height(index));

    public FaceSample Load(int index) => Draw(Width(index), Height(index), index) with { Info = GetInfo(index) };

    private static int Width(int index) => 80 + (index * 7 % 50);

    private static int Height(int index) => 90 + (index * 11 % 60);
}

/// <summary>Checks that every marked region of this project's code appears word for word in docs/*.md.</summary>
internal static partial class DocSnippets
{
    public static string Check()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "FacialKeypoints.sln")))
        {
            root = root.Parent;
        }

        string? project = root is null ? null : Path.Combine(root.FullName, "samples", "FacialKeypoints.Extending");
        if (root is null || !Directory.Exists(project) || !Directory.Exists(Path.Combine(root.FullName, "docs")))
        {
            return "docs: not checked (run from inside the repository to compare them with the code)";
        }

        string docs = string.Join("\n", Directory.GetFiles(Path.Combine(root.FullName, "docs"), "*.md").Order(StringComparer.Ordinal).Select(f => Normalise(File.ReadAllText(f))));
        var checkedNames = new List<string>();
        foreach (string file in Directory.GetFiles(project, "*.cs").Order(StringComparer.Ordinal))
        {
            foreach (var (name, text) in Regions(File.ReadAllText(file)))
            {
                if (!docs.Contains(text, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"docs/*.md no longer quote the region <{name}> of {Path.GetFileName(file)}; copy it into the docs again.");
                }

                checkedNames.Add(name);
            }
        }

        return $"docs: {checkedNames.Count} snippets quoted word for word ({string.Join(", ", checkedNames)})";
    }

    private static IEnumerable<(string Name, string Text)> Regions(string source)
    {
        var lines = Normalise(source).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var start = Marker().Match(lines[i]);
            if (!start.Success || start.Groups[1].Value == "/")
            {
                continue;
            }

            string name = start.Groups[2].Value;
            int end = Array.FindIndex(lines, i + 1, l => l.Trim() == $"// </{name}>");
            if (end < 0)
            {
                throw new InvalidOperationException($"Region <{name}> is not closed.");
            }

            var body = lines[(i + 1)..end];
            int indent = body.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
            yield return (name, string.Join("\n", body.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())));
            i = end;
        }
    }

    private static string Normalise(string text) =>
        string.Join("\n", text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()));

    [GeneratedRegex(@"^\s*// <(/?)([a-z0-9-]+)>$")]
    private static partial Regex Marker();
}

/// <summary>Two test crops of the keypoint dataset on a grey 800x450 canvas, as a stand-in for a photo.</summary>
internal static class TestPhotos
{
    public static RgbImage[]? Find()
    {
        string? root = Environment.GetEnvironmentVariable("FKP_DATA");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); string.IsNullOrEmpty(root) && dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "..", "shared", "data");
            root = Directory.Exists(Path.Combine(candidate, "facial-keypoints")) ? candidate : null;
        }

        string test = Path.Combine(root ?? string.Empty, "facial-keypoints", "test");
        return Directory.Exists(test) ? [ImageDecoder.Decode(Path.Combine(test, "Ed_Smart_51.jpg")), ImageDecoder.Decode(Path.Combine(test, "Carlos_Iturgaitz_31.jpg"))] : null;
    }

    public static RgbImage Compose(RgbImage[] crops, int shift)
    {
        var canvas = new RgbImage(800, 450);
        Array.Fill(canvas.Pixels, (byte)110);
        int x = 60 + shift;
        foreach (var crop in crops)
        {
            for (int row = 0; row < Math.Min(crop.Height, 400); row++)
            {
                Array.Copy(crop.Pixels, row * crop.Width * 3, canvas.Pixels, (((40 + row) * 800) + x) * 3, Math.Min(crop.Width, 800 - x) * 3);
            }

            x += 400;
        }

        return canvas;
    }
}
