using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Export;
using FacialKeypoints.Tests;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit.Tests;

/// <summary>
/// <c>--quantize-expression</c> on a small ten-logit network (random weights, the shipped file's metadata keys): it
/// cuts our labelled frames with the model's crop, writes the int8 file calibrated on the requested faces and their
/// mirrors, and reports how many calls the int8 arithmetic changed.
/// </summary>
public sealed class ExpressionQuantizationTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void QuantizeExpression_FloatNetwork_WritesCalibratedInt8AndComparesCalls()
    {
        string source = WriteFloatNetwork(folder), target = Path.Combine(folder, "expression-int8.onnx");
        var log = new List<string>();

        int code = EmotionFitCommandLine.Run(
            ["--data", TestEnvironment.DataRoot, "--quantize-expression", source, "--export", target, "--calibration-count", "8"],
            settings => ExpressionQuantization.Run(settings, settings.DataRoot!, log.Add));

        code.Should().Be(0);
        using (var session = new InferenceSession(target))
        {
            var metadata = session.ModelMetadata.CustomMetadataMap;
            metadata["fkp.precision"].Should().Be("int8");
            metadata["fkp.onnx.int8.calibration_images"].Should().Be("16", "8 faces and their mirror images");
            metadata["expression.valence.labels"].Should().Be("negative,neutral,positive", "the expression keys travel with the file");
        }

        log.Should().Contain(l => l.StartsWith("655 labelled faces cut (64 px, grey: True)", StringComparison.Ordinal));
        log.Should().Contain(l => l.StartsWith("three-class calls changed by int8: ", StringComparison.Ordinal) && l.Contains(" of 655", StringComparison.Ordinal));
    }

    /// <summary>ResNet-18 to layer3, one linear layer to ten logits, 64 px, with the metadata EmotionFit exports.</summary>
    internal static string WriteFloatNetwork(string folder)
    {
        manual_seed(21);
        using var backbone = new ResNet18Backbone();
        using var linear = nn.Linear(256, 10);
        string path = Path.Combine(folder, "expression.onnx");
        var extra = new Dictionary<string, string>
        {
            ["expression.greyscale"] = "true",
            ["expression.mirror_average"] = "true",
            ["expression.crop.center_u"] = "0",
            ["expression.crop.center_v"] = "0.55",
            ["expression.crop.side"] = "2.1",
            ["expression.valence.labels"] = "negative,neutral,positive",
            ["expression.valence.outputs"] = "0-2",
            ["expression.emotion.labels"] = "angry,disgust,fear,happy,sad,surprise,neutral",
            ["expression.emotion.outputs"] = "3-9",
        };
        OnnxExport.SaveClassifier(backbone, 3, linear, 64, NormalizationSpec.ImageNet, null, extra, path);
        return path;
    }
}
