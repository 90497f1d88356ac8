using System.Text.Json;
using System.Text.Json.Serialization;

namespace FacialKeypoints.Emotion;

/// <summary>The network or networks the learned model's appearance features come from.</summary>
[JsonConverter(typeof(AppearanceNameConverter<AppearanceBackbone>))]
public enum AppearanceBackbone
{
    /// <summary>The ImageNet ResNet-18 (ResNet18.onnx from the Models package), not trained on faces; <c>imagenet-resnet18-standard</c> in parameter files.</summary>
    ImageNetResNet18 = 0,

    /// <summary>The backbone of the shipped keypoint network (FacialKeypoints.Models.Pretrained), trained to find landmarks; <c>keypoint-resnet18</c>.</summary>
    KeypointResNet18 = 1,

    /// <summary>Both, their features concatenated: ImageNet first, then the keypoint network's.</summary>
    Both = 2,
}

/// <summary>Which ResNet-18 layers become the learned model's appearance features, and how they are pooled.</summary>
[JsonConverter(typeof(AppearanceNameConverter<AppearancePooling>))]
public enum AppearancePooling
{
    /// <summary>The final stage (layer4), averaged over the crop: 512 features; <c>layer4</c> in parameter files.</summary>
    Layer4 = 0,

    /// <summary>layer3 and layer4, each averaged over the crop: 768 features; <c>layer3+layer4</c>.</summary>
    Layer3AndLayer4 = 1,

    /// <summary>layer3 averaged over each quarter of the crop (2x2 grid) plus layer4 averaged: 1536 features; <c>layer3grid2+layer4</c>.</summary>
    Layer3Grid2AndLayer4 = 2,

    /// <summary>
    /// layer3 sampled at landmark sites (mouth, eyes, brows, nostrils, cheeks, chin) with left/right pairs averaged:
    /// 17 sites x 256 features; <c>landmarks-layer3</c> (the shipped model's).
    /// </summary>
    LandmarkLayer3 = 3,

    /// <summary>As <see cref="LandmarkLayer3"/>, with layer2 (128 channels, twice the resolution) sampled too: 384 per site; <c>landmarks-layer2+3</c>.</summary>
    LandmarkLayer2And3 = 4,
}

/// <summary>The names parameter files (and the EmotionFit sample) use for the appearance choices, and what each implies.</summary>
internal static class AppearanceNames
{
    private static readonly Dictionary<AppearanceBackbone, string> Backbones = new()
    {
        [AppearanceBackbone.ImageNetResNet18] = "imagenet-resnet18-standard",
        [AppearanceBackbone.KeypointResNet18] = "keypoint-resnet18",
        [AppearanceBackbone.Both] = "imagenet-resnet18-standard+keypoint-resnet18",
    };

    private static readonly Dictionary<AppearancePooling, string> Poolings = new()
    {
        [AppearancePooling.Layer4] = "layer4",
        [AppearancePooling.Layer3AndLayer4] = "layer3+layer4",
        [AppearancePooling.Layer3Grid2AndLayer4] = "layer3grid2+layer4",
        [AppearancePooling.LandmarkLayer3] = "landmarks-layer3",
        [AppearancePooling.LandmarkLayer2And3] = "landmarks-layer2+3",
    };

    /// <summary>The stored name of a choice.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined member.</exception>
    public static string ToName<T>(T value)
        where T : struct, Enum => Table<T>().TryGetValue(value, out string? name)
            ? name
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} is not a {typeof(T).Name}.");

    /// <summary>A choice from its stored name.</summary>
    /// <exception cref="FormatException">No member has that name; the message lists the known ones.</exception>
    public static T Parse<T>(string name)
        where T : struct, Enum
    {
        foreach (var (value, known) in Table<T>())
        {
            if (known == name)
            {
                return value;
            }
        }

        throw new FormatException($"Unknown {typeof(T).Name} '{name}'. Known: {string.Join(", ", Table<T>().Values)}.");
    }

    /// <summary>The single backbones a choice runs, in feature order.</summary>
    public static IReadOnlyList<AppearanceBackbone> Parts(AppearanceBackbone backbone) => backbone switch
    {
        AppearanceBackbone.Both => [AppearanceBackbone.ImageNetResNet18, AppearanceBackbone.KeypointResNet18],
        AppearanceBackbone.ImageNetResNet18 or AppearanceBackbone.KeypointResNet18 => [backbone],
        _ => throw new ArgumentOutOfRangeException(nameof(backbone), backbone, "Not an appearance backbone."),
    };

    /// <summary>Whether a pooling samples the maps at landmark sites.</summary>
    public static bool UsesLandmarks(AppearancePooling pooling) => pooling is AppearancePooling.LandmarkLayer3 or AppearancePooling.LandmarkLayer2And3;

    /// <summary>The number of features one backbone gives under a pooling.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined member.</exception>
    public static int FeatureCount(AppearancePooling pooling) => pooling switch
    {
        AppearancePooling.Layer4 => 512,
        AppearancePooling.Layer3AndLayer4 => 768,
        AppearancePooling.Layer3Grid2AndLayer4 => 1536,
        AppearancePooling.LandmarkLayer3 => LandmarkSites.PooledSiteCount * 256,
        AppearancePooling.LandmarkLayer2And3 => LandmarkSites.PooledSiteCount * 384,
        _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Not an appearance pooling."),
    };

    private static Dictionary<T, string> Table<T>()
        where T : struct, Enum => (Dictionary<T, string>)(object)(typeof(T) == typeof(AppearanceBackbone) ? Backbones : Poolings);
}

/// <summary>Reads and writes the appearance choices by their stored names (<c>landmarks-layer3</c>, ...), as parameter files always have.</summary>
internal sealed class AppearanceNameConverter<T> : JsonConverter<T>
    where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string name = reader.GetString() ?? throw new JsonException($"A {typeof(T).Name} must be a string.");
        try
        {
            return AppearanceNames.Parse<T>(name);
        }
        catch (FormatException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(AppearanceNames.ToName(value));
}
