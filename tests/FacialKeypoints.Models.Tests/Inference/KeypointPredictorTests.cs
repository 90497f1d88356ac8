using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Models.Inference;
using FacialKeypoints.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace FacialKeypoints.Models.Tests.Inference;

public sealed class KeypointPredictorTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, true);

    /// <summary>A small random network saved as a checkpoint with a 64 x 64 input.</summary>
    private string SaveRandomModel()
    {
        torch.manual_seed(5);
        using var network = new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new ReferenceHead(512, 68));
        string path = Path.Combine(folder, "model.safetensors");
        KeypointCheckpoint.Save(path, network, ModelMetadata.ForScheme(LandmarkScheme.Ibug68, 64, NormalizationSpec.ImageNet));
        return path;
    }

    private static RgbImage Face(int width, int height)
    {
        var image = new RgbImage(width, height);
        var random = new Random(1);
        random.NextBytes(image.Pixels);
        return image;
    }

    [Fact]
    public void Predict_ReturnsKeypointsInOriginalPixelsAndFeatures()
    {
        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = SaveRandomModel() });
        var prediction = predictor.Predict(Face(90, 130));
        prediction.Keypoints.Should().HaveCount(136);
        prediction.Features.Should().HaveCount(512);
        prediction.Keypoints.Should().OnlyContain(v => float.IsFinite(v));
        predictor.Metadata.InputWidth.Should().Be(64);
    }

    [Fact]
    public void Predict_WithFlipAverage_IsMirrorSymmetric()
    {
        // Averaging with the mirrored image makes the prediction of a mirrored face the mirror of the prediction.
        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = SaveRandomModel() });
        var face = Face(64, 64);
        var direct = predictor.Predict(face).Keypoints;
        var mirrored = predictor.Predict(HorizontalFlip.MirrorImage(face)).Keypoints;
        var expected = HorizontalFlip.FlipKeypoints(direct, 64, LandmarkScheme.Ibug68);
        mirrored.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public void Predict_BatchEqualsOneByOne()
    {
        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = SaveRandomModel(), BatchSize = 2, FlipAverage = false });
        RgbImage[] faces = [Face(64, 80), Face(100, 70), Face(64, 64)];
        var batch = predictor.Predict(faces);
        for (int i = 0; i < faces.Length; i++)
        {
            batch[i].Keypoints.Should().Equal(predictor.Predict(faces[i]).Keypoints, (a, b) => Math.Abs(a - b) < 1e-3);
        }
    }

    [Fact]
    public void Load_MissingModel_SaysWhereItLooked() =>
        FluentActions.Invoking(() => KeypointPredictor.Load(new PredictorOptions { ModelPath = Path.Combine(folder, "none.safetensors") }))
            .Should().Throw<FileNotFoundException>();

    [Fact]
    public void AddFacialKeypointsModels_ResolvesWorkingPredictor()
    {
        string model = SaveRandomModel();
        var services = new ServiceCollection().AddFacialKeypointsModels(configure: o => o.ModelPath = model);
        services.AddFacialKeypointsModels(configure: o => o.FlipAverage = false); // a second call is harmless
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var predictor = provider.GetRequiredService<KeypointPredictor>();
        predictor.Predict(Face(70, 70)).Keypoints.Should().HaveCount(136);
        provider.GetRequiredService<KeypointPredictor>().Should().BeSameAs(predictor);
        services.Count(d => d.ServiceType == typeof(KeypointPredictor)).Should().Be(1);
    }

    [Fact]
    public void AddFacialKeypointsModels_InvalidOptions_FailAtStart()
    {
        var services = new ServiceCollection().AddFacialKeypointsModels(configure: o =>
        {
            o.ModelPath = Path.Combine(folder, "missing.safetensors");
            o.BatchSize = 0;
        });
        using var provider = services.BuildServiceProvider();
        FluentActions.Invoking(() => provider.GetRequiredService<IStartupValidator>().Validate())
            .Should().Throw<OptionsValidationException>().Which.Failures.Should().HaveCount(2);
    }
}
