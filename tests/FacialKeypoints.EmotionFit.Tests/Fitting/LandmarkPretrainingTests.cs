using FacialKeypoints.Emotion;
using FacialKeypoints.Emotion.Tests;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Models;
using FacialKeypoints.Tests;
using static TorchSharp.torch;

namespace FacialKeypoints.EmotionFit.Tests.Fitting;

public sealed class LandmarkPretrainingTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Synthetic faces whose mouth width varies; the image shows the mouth as a dark band of that width.</summary>
    private static List<ExpressionFace> Faces(int count, int seed)
    {
        var random = new Random(seed);
        var faces = new List<ExpressionFace>();
        for (int i = 0; i < count; i++)
        {
            var landmarks = TestFaces.Transform(TestFaces.Frontal(), 0.8f + (0.2f * (float)random.NextDouble()), 0.1f * ((float)random.NextDouble() - 0.5f), 20, 20);
            float widen = 12 * ((float)random.NextDouble() - 0.5f);
            var frame = FaceFrame.FromLandmarks(landmarks);
            (landmarks[96], landmarks[108]) = (landmarks[96] - widen, landmarks[108] + widen);
            var image = TestFaces.PaintedInFaceFrame(200, 200, landmarks);
            float half = (frame.ToFace(landmarks[108], landmarks[109]).U - frame.ToFace(landmarks[96], landmarks[97]).U) / 2;
            for (int y = 0; y < 200; y++)
            {
                for (int x = 0; x < 200; x++)
                {
                    var (u, v) = frame.ToFace(x, y);
                    if (MathF.Abs(u) < half && MathF.Abs(v - 0.85f) < 0.06f)
                    {
                        int o = ((y * 200) + x) * 3;
                        image.Pixels[o] = image.Pixels[o + 1] = image.Pixels[o + 2] = 0;
                    }
                }
            }

            faces.Add(new ExpressionFace(image, landmarks));
        }

        return faces;
    }

    [Fact]
    public void Fit_SyntheticMouths_PredictsEveryPointAndScoresAndTheBackboneRoundTrips()
    {
        var options = new LandmarkPretrainingOptions
        {
            Network = new ExpressionNetworkOptions { Crop = new CropSpec(0, 0.45f, 2.2f, 64), FirstTrainedStage = 2, Epochs = 2, BatchSize = 8, LearningRate = 1e-3, Dropout = 0 },
        };
        var faces = Faces(16, seed: 1);

        using var network = LandmarkPretraining.Fit(faces, options);
        var predicted = LandmarkPretraining.Predict(network, faces, options.Points, options.Network.Crop);
        var score = LandmarkPretraining.Score(network, faces, options.Points, options.Network.Crop);
        string path = Path.Combine(folder, "backbone.safetensors");
        LandmarkPretraining.SaveBackbone(path, network);
        using var other = new ExpressionNetwork(3, 2);
        LandmarkPretraining.LoadBackbone(path, other);
        other.eval();

        predicted.Should().HaveCount(16).And.OnlyContain(p => p.Length == 2 * 51 && p.All(float.IsFinite));
        score.FaceCount.Should().Be(16);
        score.MeanAbsoluteError.Should().BeGreaterThan(0).And.BeLessThan(1);
        using var input = randn(1, 3, 64, 64);
        using var a = network.Backbone.FeatureMap(input, 3);
        using var b = other.Backbone.FeatureMap(input, 3);
        b.allclose(a, rtol: 0, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Fit_PointsNotClosedUnderFlip_ThrowsNamingThem()
    {
        var options = new LandmarkPretrainingOptions { Points = [48, 51] };

        var act = () => LandmarkPretraining.Fit(Faces(2, seed: 2), options);

        act.Should().Throw<ArgumentException>().WithMessage("*48*");
    }

    [Fact]
    public void LoadBackbone_ExpressionNetworkFile_ThrowsSayingItIsNotABackbone()
    {
        using var model = new ExpressionNetworkModel([new ExpressionNetwork(3, 2)], new ExpressionNetworkSpec(3, [ExpressionLabel.Neutral, ExpressionLabel.Positive], CropSpec.WholeFace, true));
        string path = Path.Combine(folder, "net.safetensors");
        ExpressionNetworkFile.Save(path, model);

        var act = () => LandmarkPretraining.LoadBackbone(path, model.Members[0]);

        act.Should().Throw<ModelFormatException>().WithMessage("*not a pretrained expression backbone*");
    }
}
