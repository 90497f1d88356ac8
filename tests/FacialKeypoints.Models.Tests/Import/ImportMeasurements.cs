using System.Diagnostics;
using FacialKeypoints.Data;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Import;
using FacialKeypoints.Tests;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace FacialKeypoints.Models.Tests.Import;

/// <summary>
/// The numbers behind the choice of layout and normalisation. Run:
/// <c>FKP_MEASURE=1 dotnet test tests/FacialKeypoints.Models.Tests --filter "FullyQualifiedName~ImportMeasurements" --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Measurement")]
public sealed class ImportMeasurements(ITestOutputHelper output)
{
    private const int FaceCount = 16;

    [MeasurementFact]
    public void Layouts_ForwardTimeAndFeatureChange_At160()
    {
        string onnx = ImageNetResNet18Tests.OnnxPath();
        using var full = ImageNetResNet18.CreateBackbone(ResNet18Layout.ExtraFinalBlock, onnx);
        using var standard = ImageNetResNet18.CreateBackbone(ResNet18Layout.Standard, onnx);
        full.eval();
        standard.eval();
        using var _ = no_grad();

        using var single = rand(1, 3, 160, 160);
        using var normalisedSingle = ImageNetResNet18.Normalization.Apply(single);
        double fullMs = MedianMilliseconds(() => full.call(normalisedSingle).Dispose());
        double standardMs = MedianMilliseconds(() => standard.call(normalisedSingle).Dispose());
        output.WriteLine($"threads={get_num_threads()} forward 1x3x160x160 median of 30: [2,2,2,3] {fullMs:F1} ms, [2,2,2,2] {standardMs:F1} ms");

        using var faces = LoadFaces(160);
        using var normalised = ImageNetResNet18.Normalization.Apply(faces);
        using var a = full.call(normalised);
        using var b = standard.call(normalised);
        using var cosine = nn.functional.cosine_similarity(a, b, dim: 1);
        using var relative = (a - b).norm(1).div(a.norm(1));
        output.WriteLine(
            $"{FaceCount} faces at 160: cosine(full, standard) mean {cosine.mean().item<float>():F3} min {cosine.min().item<float>():F3}; " +
            $"relative L2 change mean {relative.mean().item<float>():F3} max {relative.max().item<float>():F3}");

        // How distinct are different faces under the full model? Puts the change above in scale.
        using var aNorm = nn.functional.normalize(a, dim: 1);
        using var pairwise = aNorm.matmul(aNorm.t());
        using var offDiagonal = pairwise.masked_select(eye(FaceCount).logical_not());
        output.WriteLine($"cosine between different faces under [2,2,2,3]: mean {offDiagonal.mean().item<float>():F3}");
    }

    [MeasurementFact]
    public void ChannelMeans_AgainstMeanImage_At224()
    {
        string onnx = ImageNetResNet18Tests.OnnxPath();
        using var full = ImageNetResNet18.CreateBackbone(ResNet18Layout.ExtraFinalBlock, onnx);
        full.eval();
        using var _ = no_grad();
        using var faces = LoadFaces(224);
        using var normalised = ImageNetResNet18.Normalization.Apply(faces);
        using var ours = full.call(normalised);

        string meanImagePath = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        using var prep = new InferenceSession(meanImagePath);
        using var session = new InferenceSession(onnx);
        var cosines = new List<double>();
        for (int i = 0; i < FaceCount; i++)
        {
            // ResNetPreprocess.onnx takes RGB 0-255 and gives BGR minus the per-pixel mean image.
            using var face = faces[i].mul(255f).contiguous();
            var rgb = new DenseTensor<float>(face.data<float>().ToArray(), [1, 3, 224, 224]);
            using var prepared = prep.Run([NamedOnnxValue.CreateFromTensor(prep.InputMetadata.Keys.Single(), rgb)]);
            var bgr = prepared.Single().AsTensor<float>().ToDenseTensor();
            using var result = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), bgr)]);
            float[] reference = result.Single().AsTensor<float>().ToArray();
            using var referenceTensor = tensor(reference);
            using var cosine = nn.functional.cosine_similarity(referenceTensor, ours[i], dim: 0);
            cosines.Add(cosine.item<float>());
        }

        output.WriteLine($"{FaceCount} faces at 224: cosine(mean image, channel means) mean {cosines.Average():F5} min {cosines.Min():F5}");
    }

    private static double MedianMilliseconds(Action action)
    {
        for (int i = 0; i < 5; i++)
        {
            action();
        }

        var times = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>The first faces of the keypoint test set, resized to size x size, RGB in [0, 1].</summary>
    private static Tensor LoadFaces(int size)
    {
        var files = Directory.GetFiles(Path.Combine(TestEnvironment.KeypointData, "test"), "*.jpg")
            .Order(StringComparer.Ordinal).Take(FaceCount).ToList();
        var batch = new List<Tensor>();
        foreach (string file in files)
        {
            var image = ImageDecoder.Decode(file);
            using var hwc = tensor(image.Pixels, [image.Height, image.Width, 3]);
            using var chw = hwc.permute(2, 0, 1).unsqueeze(0).to_type(ScalarType.Float32).div(255f);
            batch.Add(nn.functional.interpolate(chw, [size, size], mode: InterpolationMode.Bilinear, align_corners: false));
        }

        var stacked = cat(batch, 0);
        batch.ForEach(t => t.Dispose());
        return stacked;
    }
}
