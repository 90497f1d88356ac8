using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Import;
using FacialKeypoints.Models.Inference;
using static TorchSharp.torch;

namespace FacialKeypoints.Emotion;

/// <summary>
/// Appearance features of a face: the <see cref="AlignedCrop"/> of a region, run through one or more ResNet-18
/// backbones (<see cref="AppearanceBackbone"/>: the ImageNet one, the shipped keypoint network's face-trained one,
/// or both), pooled or sampled at landmark sites (<see cref="AppearancePooling"/>). With both backbones their
/// features are concatenated, ImageNet first. Optionally averages the features of the crop and its mirror image,
/// which makes them indifferent to which side of the face a cue is on. Owns its backbones; dispose it.
/// </summary>
internal sealed class AppearanceFeatureExtractor : IDisposable
{
    private readonly Trunk[] trunks;
    private bool disposed;

    /// <summary>Creates an extractor.</summary>
    /// <param name="crop">The face region.</param>
    /// <param name="averageMirror">Whether to average the features of the crop and its mirror image.</param>
    /// <param name="pooling">Which layers are pooled into features; see <see cref="AppearancePooling"/>.</param>
    /// <param name="onnxPath">ResNet18.onnx for the ImageNet backbone, or null to search for it with <see cref="ImageNetResNet18.FindOnnxFile"/>.</param>
    /// <param name="batchSize">Crops per forward pass.</param>
    /// <param name="backbone">Which backbones; default the ImageNet ResNet-18.</param>
    /// <param name="keypointModelPath">The keypoint checkpoint for <see cref="AppearanceBackbone.KeypointResNet18"/>, or null for the shipped model (<see cref="ShippedModel.FindOrThrow"/>).</param>
    /// <exception cref="FileNotFoundException">A weights file was not found.</exception>
    public AppearanceFeatureExtractor(CropSpec crop, bool averageMirror, AppearancePooling pooling = AppearancePooling.Layer4, string? onnxPath = null, int batchSize = 32, AppearanceBackbone backbone = AppearanceBackbone.ImageNetResNet18, string? keypointModelPath = null)
    {
        ArgumentNullException.ThrowIfNull(crop);
        crop.Validate();
        if (crop.Size % 32 != 0)
        {
            throw new ArgumentException($"The crop size {crop.Size} must be a multiple of 32 for the ResNet backbone.", nameof(crop));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var names = AppearanceNames.Parts(backbone);
        FeatureCount = AppearanceNames.FeatureCount(pooling) * names.Count;
        TorchRuntime.EnsureInitialized();
        Pooling = pooling;
        Backbone = backbone;
        Crop = crop;
        AverageMirror = averageMirror;
        BatchSize = batchSize;
        var created = new List<Trunk>();
        try
        {
            foreach (var name in names)
            {
                created.Add(name == AppearanceBackbone.KeypointResNet18 ? Trunk.FromKeypointModel(keypointModelPath) : Trunk.FromImageNet(onnxPath));
            }
        }
        catch
        {
            created.ForEach(t => t.Dispose());
            throw;
        }

        trunks = [.. created];
    }

    /// <summary>The backbones.</summary>
    public AppearanceBackbone Backbone { get; }

    /// <summary>The face region.</summary>
    public CropSpec Crop { get; }

    /// <summary>Which layers are pooled.</summary>
    public AppearancePooling Pooling { get; }

    /// <summary>The number of features per face.</summary>
    public int FeatureCount { get; }

    /// <summary>Whether the crop's mirror image is averaged in.</summary>
    public bool AverageMirror { get; }

    /// <summary>Crops per forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>Features of one face.</summary>
    /// <param name="image">The original image.</param>
    /// <param name="landmarks">Its landmarks in the image's pixels.</param>
    /// <param name="scheme">Their scheme; iBUG-68 when null.</param>
    /// <returns><see cref="FeatureCount"/> values.</returns>
    public float[] Extract(RgbImage image, float[] landmarks, LandmarkScheme? scheme = null) => Extract([(image, landmarks)], scheme)[0];

    /// <summary>Features of several faces, batched.</summary>
    /// <param name="faces">Images with their landmarks.</param>
    /// <param name="scheme">The landmarks' scheme; iBUG-68 when null.</param>
    /// <returns>One feature vector per face.</returns>
    public float[][] Extract(IReadOnlyList<(RgbImage Image, float[] Landmarks)> faces, LandmarkScheme? scheme = null)
    {
        ArgumentNullException.ThrowIfNull(faces);
        ObjectDisposedException.ThrowIf(disposed, this);
        var result = new float[faces.Count][];
        for (int start = 0; start < faces.Count; start += BatchSize)
        {
            int count = Math.Min(BatchSize, faces.Count - start);
            var crops = new RgbImage[count];
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
                crops[i] = AlignedCrop.Extract(faces[start + i].Image, faces[start + i].Landmarks, Crop, scheme));
            float[][]? sites = AppearanceNames.UsesLandmarks(Pooling)
                ? [.. Enumerable.Range(start, count).Select(i => LandmarkSites.InCrop(faces[i].Landmarks, Crop, scheme))]
                : null;
            var features = Run(crops, sites);
            Array.Copy(features, 0, result, start, count);
        }

        return result;
    }

    /// <summary>Features of crops already cut with <see cref="AlignedCrop.Extract(RgbImage, ReadOnlySpan{float}, CropSpec, LandmarkScheme?)"/> (all of <see cref="Crop"/>'s size).</summary>
    /// <param name="crops">The crops.</param>
    /// <returns>One feature vector per crop.</returns>
    /// <exception cref="InvalidOperationException">The pooling samples at landmarks, which crops alone do not give.</exception>
    public float[][] ExtractFromCrops(IReadOnlyList<RgbImage> crops)
    {
        ArgumentNullException.ThrowIfNull(crops);
        if (AppearanceNames.UsesLandmarks(Pooling))
        {
            throw new InvalidOperationException($"Pooling '{Pooling}' samples at landmarks; use Extract with the landmarks.");
        }

        return Run(crops, null);
    }

    private float[][] Run(IReadOnlyList<RgbImage> crops, float[][]? sites)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (crops.Count == 0)
        {
            return [];
        }

        int size = Crop.Size;
        if (crops[0].Width != size)
        {
            throw new ArgumentException($"Crop 0 is {crops[0].Width}x{crops[0].Height}, expected {size}x{size}.", nameof(crops));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = AlignedCrop.ToUnitTensor(crops, 0, crops.Count);
        var grid = sites is null ? null : tensor(sites.SelectMany(v => v).ToArray(), [crops.Count, 1, sites[0].Length / 2, 2]).add(0.5).mul(2.0 / size).sub(1);
        var features = cat([.. trunks.Select(t => Features(t, images, grid))], 1);
        float[] flat = features.contiguous().data<float>().ToArray();
        var result = new float[crops.Count][];
        for (int n = 0; n < crops.Count; n++)
        {
            result[n] = flat.AsSpan(n * FeatureCount, FeatureCount).ToArray();
        }

        return result;
    }

    private Tensor Features(Trunk trunk, Tensor images, Tensor? grid)
    {
        var input = trunk.Normalization.Apply(images);
        var (map2, map3, map4) = trunk.Maps(input);
        if (AverageMirror)
        {
            // The mirror's maps are flipped back so that positions line up before averaging.
            var (mirror2, mirror3, mirror4) = trunk.Maps(input.flip(3));
            map2 = map2.add(mirror2.flip(3)).div(2);
            map3 = map3.add(mirror3.flip(3)).div(2);
            map4 = map4.add(mirror4.flip(3)).div(2);
        }

        if (grid is not null)
        {
            // Sample the maps at each site (bilinear, sites in crop pixels), then average symmetric pairs.
            var maps = Pooling == AppearancePooling.LandmarkLayer2And3 ? new[] { map2, map3 } : [map3];
            var sampled = cat([.. maps.Select(m => nn.functional.grid_sample(m, grid, align_corners: false))], 1); // [B, C, 1, S]
            var perSite = sampled.squeeze(2).permute(0, 2, 1).contiguous(); // [B, S, C]
            return LandmarkSites.Symmetrise(perSite);
        }

        return Pool(map3, map4);
    }

    private Tensor Pool(Tensor map3, Tensor map4) => Pooling switch
    {
        AppearancePooling.Layer4 => nn.functional.adaptive_avg_pool2d(map4, 1).flatten(1),
        AppearancePooling.Layer3AndLayer4 => cat([nn.functional.adaptive_avg_pool2d(map3, 1).flatten(1), nn.functional.adaptive_avg_pool2d(map4, 1).flatten(1)], 1),
        AppearancePooling.Layer3Grid2AndLayer4 => cat([nn.functional.adaptive_avg_pool2d(map3, 2).flatten(1), nn.functional.adaptive_avg_pool2d(map4, 1).flatten(1)], 1),
        _ => throw new InvalidOperationException($"Unknown pooling '{Pooling}'."),
    };

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!disposed)
        {
            foreach (var trunk in trunks)
            {
                trunk.Dispose();
            }

            disposed = true;
        }
    }

    /// <summary>One backbone's stages, the module that owns them, and the input normalisation it was trained with.</summary>
    private sealed class Trunk : IDisposable
    {
        private readonly nn.Module owner;
        private readonly nn.Module<Tensor, Tensor>[] stem;
        private readonly nn.Module<Tensor, Tensor>[] afterRelu;
        private readonly nn.Module<Tensor, Tensor> layer2;
        private readonly nn.Module<Tensor, Tensor> layer3;
        private readonly nn.Module<Tensor, Tensor> layer4;

        private Trunk(nn.Module owner, ResNet18Backbone backbone, NormalizationSpec normalization)
        {
            this.owner = owner;
            owner.eval();
            var children = backbone.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module, StringComparer.Ordinal);
            stem = [children["conv1"], children["bn1"]];
            afterRelu = [children["maxpool"], children["layer1"]];
            layer2 = children["layer2"];
            layer3 = children["layer3"];
            layer4 = children["layer4"];
            Normalization = normalization;
        }

        public NormalizationSpec Normalization { get; }

        public static Trunk FromImageNet(string? onnxPath)
        {
            var backbone = ImageNetResNet18.CreateBackbone(ResNet18Layout.Standard, onnxPath);
            return new Trunk(backbone, backbone, ImageNetResNet18.Normalization);
        }

        public static Trunk FromKeypointModel(string? path)
        {
            var (model, metadata) = KeypointCheckpoint.Load(path ?? ShippedModel.FindOrThrow());
            return new Trunk(model, model.Backbone, metadata.Normalization);
        }

        public (Tensor Layer2, Tensor Layer3, Tensor Layer4) Maps(Tensor input)
        {
            var x = input;
            foreach (var module in stem)
            {
                x = module.call(x);
            }

            x = nn.functional.relu(x);
            foreach (var module in afterRelu)
            {
                x = module.call(x);
            }

            var l2 = layer2.call(x);
            var l3 = layer3.call(l2);
            return (l2, l3, layer4.call(l3));
        }

        public void Dispose() => owner.Dispose();
    }
}

/// <summary>
/// The landmark sites whose local layer3 features describe expression, and their left/right pairing. Sites are named
/// points of the <see cref="LandmarkScheme"/> (<see cref="LandmarkScheme.Points"/>): each pair is a <c>right_</c> and
/// a <c>left_</c> point; the cheeks are halfway between an outer eye corner and the mouth corner on that side.
/// </summary>
internal static class LandmarkSites
{
    // Paired sites by name without the side ("right_" / "left_"); null is the cheek.
    private static readonly string?[] Pairs =
    [
        "mouth_corner", "upper_lip_peak", "lower_lip", "eye_outer", "eye_inner", "eye_bottom", "nostril", "brow_inner", "brow_middle", null, "jaw",
    ];

    private static readonly string[] Centres = ["upper_lip_top", "lower_lip_bottom", "upper_lip_inner", "lower_lip_inner", "nose_base", "chin"];

    /// <summary>Sites after pairing: one per pair and one per central point.</summary>
    public static int PooledSiteCount => Pairs.Length + Centres.Length;

    /// <summary>All sites in order (pairs' right points, pairs' left points, centres), as crop pixel coordinates (x, y, ...).</summary>
    /// <param name="landmarks">The face's landmarks in the image's pixels.</param>
    /// <param name="crop">The crop the sites are wanted in.</param>
    /// <param name="scheme">The landmarks' scheme; iBUG-68 when null.</param>
    /// <exception cref="KeyNotFoundException">The scheme lacks a site's point.</exception>
    public static float[] InCrop(float[] landmarks, CropSpec crop, LandmarkScheme? scheme = null)
    {
        scheme ??= LandmarkScheme.Ibug68;
        var frame = FaceFrame.FromLandmarks(landmarks, scheme);
        float step = crop.Extent / crop.Size;
        float u0 = crop.CenterU - (crop.Extent / 2), v0 = crop.CenterV - (crop.Extent / 2);
        var result = new List<float>();
        (float X, float Y) Point(string name)
        {
            int i = scheme.PointOf(name);
            return (landmarks[2 * i], landmarks[(2 * i) + 1]);
        }

        void Add((float X, float Y) site)
        {
            var (u, v) = frame.ToFace(site.X, site.Y);
            result.Add(((u - u0) / step) - 0.5f);
            result.Add(((v - v0) / step) - 0.5f);
        }

        (float X, float Y) Site(string side, string? pair)
        {
            if (pair is not null)
            {
                return Point(side + pair);
            }

            var (eye, mouth) = (Point(side + "eye_outer"), Point(side + "mouth_corner"));
            return ((eye.X + mouth.X) / 2, (eye.Y + mouth.Y) / 2);
        }

        foreach (string side in new[] { "right_", "left_" })
        {
            foreach (string? pair in Pairs)
            {
                Add(Site(side, pair));
            }
        }

        foreach (string centre in Centres)
        {
            Add(Point(centre));
        }

        return [.. result];
    }

    /// <summary>Averages each pair's two sites: [B, sites, C] to [B, pooled sites * C].</summary>
    public static Tensor Symmetrise(Tensor perSite)
    {
        int p = Pairs.Length;
        var left = perSite.narrow(1, 0, p);
        var right = perSite.narrow(1, p, p);
        var centres = perSite.narrow(1, 2 * p, Centres.Length);
        return cat([left.add(right).div(2), centres], 1).flatten(1);
    }
}
