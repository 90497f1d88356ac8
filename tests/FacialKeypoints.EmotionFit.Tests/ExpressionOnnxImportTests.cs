using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Emotion;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Tests;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit.Tests;

/// <summary>
/// An exported expression network loaded back for a head refit (<see cref="ExpressionOnnxImport"/>): the batch norms
/// the export folded come back as identities, so the loaded network computes what the original did, and exporting it
/// again gives the same weights.
/// </summary>
public sealed class ExpressionOnnxImportTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Load_ExportedNetwork_ComputesTheSameLogits()
    {
        using var original = TrainedLookingNetwork(outputs: 10);
        string path = Export(original, "expression.onnx");

        using var loaded = new ExpressionNetwork(3, 10, 0.2);
        ExpressionOnnxImport.Load(loaded, path);

        original.eval();
        loaded.eval();
        manual_seed(5);
        using var input = randn(4, 3, 64, 64);
        using var noGrad = no_grad();
        using var expected = original.call(input);
        using var actual = loaded.call(input);
        double relative = (actual - expected).norm().item<float>() / expected.norm().item<float>();
        relative.Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Load_ExportedAgain_GivesTheSameWeights()
    {
        using var original = TrainedLookingNetwork(outputs: 10);
        string first = Export(original, "first.onnx");
        using var loaded = new ExpressionNetwork(3, 10, 0.2);
        ExpressionOnnxImport.Load(loaded, first);
        string second = Export(loaded, "second.onnx");

        var a = OnnxGraphReader.Read(first).Graph.Nodes.OfType<ConvNode>().ToList();
        var b = OnnxGraphReader.Read(second).Graph.Nodes.OfType<ConvNode>().ToList();
        b.Select(n => n.Output).Should().Equal(a.Select(n => n.Output));
        for (int i = 0; i < a.Count; i++)
        {
            b[i].Weight.Should().Equal(a[i].Weight, (x, y) => Math.Abs(x - y) <= 1e-6f * Math.Max(1, Math.Abs(y)), a[i].Output);
            b[i].Bias.Should().Equal(a[i].Bias, (x, y) => Math.Abs(x - y) <= 1e-6f * Math.Max(1, Math.Abs(y)), a[i].Output);
        }
    }

    [Fact]
    public void Load_OtherOutputCount_NamesTheFile()
    {
        using var seven = TrainedLookingNetwork(outputs: 7);
        string path = Export(seven, "seven.onnx");
        using var ten = new ExpressionNetwork(3, 10, 0.2);

        var act = () => ExpressionOnnxImport.Load(ten, path);

        act.Should().Throw<InvalidDataException>().WithMessage($"{path}: the linear layer is 256 -> 7, the network's 256 -> 10.");
    }

    /// <summary>A layer3 network whose batch norms are not identities (random scale, shift, mean and variance).</summary>
    private static ExpressionNetwork TrainedLookingNetwork(int outputs)
    {
        manual_seed(outputs);
        var net = new ExpressionNetwork(3, outputs, 0.2);
        using var noGrad = no_grad();
        foreach (var (name, tensor) in net.state_dict())
        {
            if (name.Contains(".bn", StringComparison.Ordinal) || name.Contains("downsample.1", StringComparison.Ordinal) || name.StartsWith("backbone.bn1", StringComparison.Ordinal))
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal) || name.EndsWith(".running_var", StringComparison.Ordinal))
                {
                    tensor.copy_(rand_like(tensor) + 0.5);
                }
                else if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith(".running_mean", StringComparison.Ordinal))
                {
                    tensor.copy_((rand_like(tensor) - 0.5) * 0.2);
                }
            }
        }

        return net;
    }

    private string Export(ExpressionNetwork net, string name)
    {
        string path = Path.Combine(folder, name);
        OnnxExport.SaveClassifier(net.Backbone, 3, net.Classifier, 64, NormalizationSpec.ImageNet, null, null, path);
        return path;
    }
}
