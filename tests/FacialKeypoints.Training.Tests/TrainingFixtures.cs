using FacialKeypoints.Data;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;
using Microsoft.Extensions.Logging;

namespace FacialKeypoints.Training.Tests;

/// <summary>Small synthetic faces: a bright square whose corners move with the keypoints.</summary>
internal sealed class SyntheticFaces(int count, int size = 64) : IFaceDataset
{
    public int Count => count;

    public LandmarkScheme Scheme => LandmarkScheme.Ibug68;

    public SampleInfo GetInfo(int index) => new(index, $"face_{index:D2}.jpg", $"face{index % 4}", size, size);

    public FaceSample Load(int index)
    {
        var random = new Random(index);
        int left = 8 + random.Next(16), top = 8 + random.Next(16), side = 20 + random.Next(12);
        var image = new RgbImage(size, size);
        for (int y = top; y < top + side; y++)
        {
            for (int x = left; x < left + side; x++)
            {
                image.Pixels[((y * size) + x) * 3] = 230;
                image.Pixels[(((y * size) + x) * 3) + 1] = 200;
            }
        }

        var keypoints = new float[Scheme.ValueCount];
        for (int p = 0; p < Scheme.Count; p++)
        {
            keypoints[2 * p] = left + (side * (p % 8) / 8f);
            keypoints[(2 * p) + 1] = top + (side * (p / 8) / 9f);
        }

        return new FaceSample(image, keypoints, GetInfo(index));
    }

    public static KeypointNetwork Network(int seed = 1)
    {
        TorchSharp.torch.manual_seed(seed);
        return new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new ReferenceHead(512, 68));
    }
}

/// <summary>Keeps the trainer's warnings.</summary>
internal sealed class ListLogger : ILogger<KeypointTrainer>
{
    public List<string> Warnings { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel == LogLevel.Warning)
        {
            lock (Warnings)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
