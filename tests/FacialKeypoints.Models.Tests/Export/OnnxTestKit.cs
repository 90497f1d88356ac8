using FacialKeypoints.Data;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Tests;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using ModelMetadata = FacialKeypoints.Models.Checkpoints.ModelMetadata;
using Tensor = TorchSharp.torch.Tensor;

namespace FacialKeypoints.Models.Tests.Export;

/// <summary>Helpers of the export tests and measurements: the shipped model, test faces, ONNX Runtime runs, errors.</summary>
internal static class OnnxTestKit
{
    /// <summary>The shipped landmark model in the repository (not copied to the test output).</summary>
    public static string ShippedModelPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FacialKeypoints.sln")))
            {
                return Path.Combine(dir.FullName, "src", "FacialKeypoints.Models.Pretrained", "facial-keypoints-resnet18.safetensors");
            }
        }

        throw new DirectoryNotFoundException("The repository root (FacialKeypoints.sln) was not found above the test output.");
    }

    /// <summary>Images of a split of the keypoint dataset, from the data folder <see cref="TestEnvironment"/> finds.</summary>
    public static KeypointDataset Dataset(string split) => KeypointDataset.OpenSplit(TestEnvironment.KeypointData, split);

    public static RgbImage[] Faces(string split, IEnumerable<int> indices)
    {
        var dataset = Dataset(split);
        return [.. indices.Select(i => dataset.Load(i).Image)];
    }

    /// <summary>Images resized to the model input and normalised as the predictor does, flattened <c>[N, 3, H, W]</c>.</summary>
    public static float[] Prepare(IReadOnlyList<RgbImage> images, ModelMetadata metadata) =>
        Calibration.Prepare(images, metadata.InputHeight, metadata.InputWidth, metadata.Normalization);

    public static InferenceSession Session(string path, int threads = 1, bool spinning = true)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        if (!spinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

        return new InferenceSession(path, options);
    }

    public static float[] Run(InferenceSession session, float[] input, int batch, int height, int width)
    {
        var tensor = new DenseTensor<float>(input, [batch, 3, height, width]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, tensor)]);
        return results.Single(r => r.Name == OnnxExport.OutputName).AsTensor<float>().ToArray();
    }

    public static float[] Run(string path, float[] input, int batch, int height, int width)
    {
        using var session = Session(path, threads: 2);
        return Run(session, input, batch, height, width);
    }

    /// <summary>TorchSharp's evaluation-mode output of a network on the same flattened input.</summary>
    public static float[] Torch(nn.Module<Tensor, Tensor> network, float[] input, int batch, int height, int width)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        network.eval();
        return network.call(tensor(input, [batch, 3, height, width])).data<float>().ToArray();
    }

    /// <summary>|a - b| / |b| over all values.</summary>
    public static double RelativeL2(float[] a, float[] b)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < b.Length; i++)
        {
            difference += (a[i] - (double)b[i]) * (a[i] - b[i]);
            norm += b[i] * (double)b[i];
        }

        return Math.Sqrt(difference / norm);
    }

    /// <summary>Gives the batch norms running statistics and affine values far from the identity, so folding is really tested.</summary>
    public static void RandomizeBatchNorms(nn.Module module, int seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        foreach (var (name, t) in module.state_dict())
        {
            if (!t.is_floating_point())
            {
                continue;
            }

            if (name.EndsWith("running_var", StringComparison.Ordinal))
            {
                t.copy_(rand(t.shape, generator: generator) + 0.5);
            }
            else if (name.EndsWith("running_mean", StringComparison.Ordinal))
            {
                t.copy_((rand(t.shape, generator: generator) - 0.5) * 0.4);
            }
            else if (name.Contains("bn", StringComparison.Ordinal) || name.Contains("downsample.1", StringComparison.Ordinal) || name.Contains("norm", StringComparison.Ordinal))
            {
                t.copy_(rand(t.shape, generator: generator) + 0.5);
            }
        }
    }
}
