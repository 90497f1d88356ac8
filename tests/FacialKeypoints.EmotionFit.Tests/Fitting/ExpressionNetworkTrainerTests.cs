using FacialKeypoints.Emotion;
using FacialKeypoints.Emotion.Tests;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Tests;

namespace FacialKeypoints.EmotionFit.Tests.Fitting;

public sealed class ExpressionNetworkTrainerTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Fit_TinySyntheticSet_LearnsWhichFacesShowTeethAndClassifiesHeldOutFaces()
    {
        // Smiling synthetic faces show a bright band where the mouth is; neutral ones a dark band. Different people
        // (scale, rotation, position) for training and for the held-out check.
        var (faces, labels) = SyntheticFaces(people: 8, seed: 1);
        var (heldOut, heldLabels) = SyntheticFaces(people: 3, seed: 2);
        var options = new ExpressionNetworkOptions { Crop = new CropSpec(0, 0.45f, 2.2f, 64), Epochs = 6, BatchSize = 8, LearningRate = 1e-3, Seed = 3 };

        var (network, classes) = ExpressionNetworkTrainer.Fit(faces, labels, options);
        using (var model = new ExpressionNetworkModel([network], new ExpressionNetworkSpec(options.Stages, classes, options.Crop, true)))
        {
            classes.Should().Equal(ExpressionLabel.Neutral, ExpressionLabel.Positive);
            var predictions = NetworkPrediction.Predict(network, classes, heldOut, options.Crop, mirrorAverage: true);
            predictions.Select(p => p.Label).Should().Equal(heldLabels);
            predictions.Should().OnlyContain(p => Math.Abs(p.Probabilities.Values.Sum() - 1) < 1e-4);

            string path = Path.Combine(folder, "fitted.safetensors");
            ExpressionNetworkFile.Save(path, model);
            using var classifier = new NetworkExpressionClassifier(new NetworkExpressionOptions { NetworkPath = path });
            classifier.ClassifyBatch([.. heldOut.Select(f => new ExpressionInput(f.Landmarks, f.Image))]).Select(p => p.Label).Should().Equal(heldLabels);
        }
    }

    [Fact]
    public void CrossValidate_TinySyntheticSet_PredictsEveryFaceOutOfFold()
    {
        var (faces, labels) = SyntheticFaces(people: 6, seed: 4);
        var identities = faces.Select((_, i) => $"Person_{i / 2}").ToList();
        var options = new ExpressionNetworkOptions { Crop = new CropSpec(0, 0.45f, 2.2f, 32), Epochs = 1, BatchSize = 4 };

        var result = ExpressionNetworkTrainer.CrossValidate(faces, faces, labels, identities, options, folds: 3);

        result.Predictions.Should().HaveCount(faces.Count).And.OnlyContain(p => p != null);
        result.Matrix.Total.Should().Be(faces.Count);
    }

    private static (List<ExpressionFace> Faces, List<ExpressionLabel> Labels) SyntheticFaces(int people, int seed)
    {
        var random = new Random(seed);
        var faces = new List<ExpressionFace>();
        var labels = new List<ExpressionLabel>();
        for (int person = 0; person < people; person++)
        {
            float scale = 0.7f + (0.3f * (float)random.NextDouble());
            float angle = 0.2f * ((float)random.NextDouble() - 0.5f);
            var landmarks = TestFaces.Transform(TestFaces.Frontal(), scale, angle, 10 + (20 * (float)random.NextDouble()), 10 + (20 * (float)random.NextDouble()));
            var frame = FaceFrame.FromLandmarks(landmarks);
            foreach (bool smile in new[] { false, true })
            {
                var image = TestFaces.PaintedInFaceFrame(200, 200, landmarks);
                for (int y = 0; y < image.Height; y++)
                {
                    for (int x = 0; x < image.Width; x++)
                    {
                        var (u, v) = frame.ToFace(x, y);
                        if (MathF.Abs(u) < 0.3f && MathF.Abs(v - 0.85f) < 0.08f)
                        {
                            int o = ((y * image.Width) + x) * 3;
                            image.Pixels[o] = image.Pixels[o + 1] = image.Pixels[o + 2] = (byte)(smile ? 250 : 10);
                        }
                    }
                }

                faces.Add(new ExpressionFace(image, landmarks));
                labels.Add(smile ? ExpressionLabel.Positive : ExpressionLabel.Neutral);
            }
        }

        return (faces, labels);
    }
}
