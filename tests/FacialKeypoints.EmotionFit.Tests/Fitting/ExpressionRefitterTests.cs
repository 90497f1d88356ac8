using System.Globalization;
using System.Text;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Emotion;
using FacialKeypoints.Emotion.Tests;
using FacialKeypoints.EmotionFit.Fitting;
using FacialKeypoints.Tests;

namespace FacialKeypoints.EmotionFit.Tests.Fitting;

public sealed class ExpressionRefitterTests : IDisposable
{
    private readonly string folder = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Twelve synthetic faces of six people; odd-numbered faces smile (wider mouth, corners up), one is unclear.</summary>
    private ExpressionRefitRequest WriteTinyLabelSet(ExpressionFitOptions options)
    {
        string images = Path.Combine(folder, "images");
        Directory.CreateDirectory(images);
        var labels = new StringBuilder("name,label\n");
        var landmarks = new StringBuilder("," + string.Join(",", Enumerable.Range(0, 136)) + "\n");
        for (int person = 0; person < 6; person++)
        {
            for (int frame = 0; frame < 2; frame++)
            {
                string name = $"Person_{person}_{frame:00}.jpg";
                bool smile = frame == 1;
                var face = TestFaces.Transform(TestFaces.Frontal(), 0.8f + (0.05f * person), 0.02f * (person - 3), 10 + person, 5);
                if (smile)
                {
                    face[96] -= 8; face[97] -= 6;    // 48 out and up
                    face[108] += 8; face[109] -= 6;  // 54 out and up
                }

                var image = TestFaces.PaintedInFaceFrame(180, 200, face);
                for (int i = 0; i < image.Pixels.Length; i += 3)
                {
                    image.Pixels[i] = (byte)(smile ? 220 : image.Pixels[i]);
                }

                KeypointOverlay.SavePng(image, Path.Combine(images, name));
                string label = person == 5 && frame == 0 ? "unclear" : smile ? "positive" : "neutral";
                labels.Append(CultureInfo.InvariantCulture, $"{name},{label}\n");
                landmarks.Append(name).Append(',').AppendJoin(",", face.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
            }
        }

        File.WriteAllText(Path.Combine(folder, "labels.csv"), labels.ToString());
        File.WriteAllText(Path.Combine(folder, "landmarks.csv"), landmarks.ToString());
        return new ExpressionRefitRequest
        {
            LabelsPath = Path.Combine(folder, "labels.csv"),
            ImageDirectory = images,
            LandmarksPath = Path.Combine(folder, "landmarks.csv"),
            FitOptions = options,
            Folds = 2,
        };
    }

    [Fact]
    public void Run_TinySyntheticLabelSet_FitsScoresAndWritesLoadableParameters()
    {
        var options = new ExpressionFitOptions
        {
            Crop = new CropSpec(0f, 0.45f, 2.2f, 64),
            Pooling = AppearancePooling.LandmarkLayer3,
            AverageMirror = false,
            ClassWeightPower = 1,
        };
        var request = WriteTinyLabelSet(options);

        var result = ExpressionRefitter.Run(request);

        result.FaceCount.Should().Be(11);
        result.UnclearCount.Should().Be(1);
        result.IdentityCount.Should().Be(6);
        result.Learned.Total.Should().Be(11);
        result.AlwaysNeutral.Accuracy.Should().BeApproximately(5.0 / 11, 1e-9);
        result.Learned.Accuracy.Should().BeGreaterThan(0.8, "the smiles are obvious in both geometry and colour");
        result.LearnedJittered.Should().NotBeNull();
        result.ToMarkdown(0.03).Should().Contain("Reference rule").And.Contain("| positive |");

        string path = Path.Combine(folder, "model.json");
        result.Parameters.Save(path);
        using var classifier = new LearnedExpressionClassifier(new LearnedExpressionOptions { ParametersPath = path });
        var smile = TestFaces.Transform(TestFaces.Frontal(), 0.9f, 0f, 12, 5);
        smile[96] -= 8; smile[97] -= 6; smile[108] += 8; smile[109] -= 6;
        var image = TestFaces.PaintedInFaceFrame(180, 200, smile);
        for (int i = 0; i < image.Pixels.Length; i += 3)
        {
            image.Pixels[i] = 220;
        }

        classifier.Classify(new ExpressionInput(smile, image)).Label.Should().Be(ExpressionLabel.Positive);
    }

    [Fact]
    public void Run_PredictionsCsvAsEvaluationLandmarks_ScoresOnThem()
    {
        var request = WriteTinyLabelSet(new ExpressionFitOptions { UseAppearance = false, TrainMirror = false, TrainJitterCopies = 0 });
        string predictions = Path.Combine(folder, "predictions.csv");
        var lines = File.ReadAllLines(request.LandmarksPath);
        string header = "name," + string.Join(",", Enumerable.Range(0, 68).Select(k => $"x{k},y{k}"));
        File.WriteAllLines(predictions, [header, .. lines.Skip(1)]);

        var result = ExpressionRefitter.Run(new ExpressionRefitRequest
        {
            LabelsPath = request.LabelsPath,
            ImageDirectory = request.ImageDirectory,
            LandmarksPath = request.LandmarksPath,
            EvaluationLandmarksPath = predictions,
            FitOptions = request.FitOptions,
            Folds = 2,
            JitterFraction = 0,
        });

        result.EvaluationSource.Should().Contain("predictions.csv");
        result.Learned.Total.Should().Be(11);
        result.LearnedJittered.Should().BeNull();
        result.Parameters.Appearance.Should().BeNull();
    }

    [Fact]
    public void ReadLandmarks_PredictOutputWithExpressionColumns_IgnoresThemAndStillNamesBadLines()
    {
        string path = Path.Combine(folder, "predict-output.csv");
        string header = "name," + string.Join(",", Enumerable.Range(0, 68).Select(k => $"x{k},y{k}")) + ",expression,p_neutral,p_positive,p_negative";
        string row = "a.jpg," + string.Join(",", Enumerable.Range(0, 136).Select(k => (k * 0.5).ToString(CultureInfo.InvariantCulture))) + ",positive,0.2,0.8,0";
        File.WriteAllLines(path, [header, row]);

        var table = ExpressionRefitter.ReadLandmarks(path);

        table.Should().ContainKey("a.jpg").WhoseValue.Should().HaveCount(136).And.HaveElementAt(135, 67.5f);
        File.WriteAllLines(path, [header, row, "b.jpg,1,2,neutral"]);
        var act = () => ExpressionRefitter.ReadLandmarks(path);
        act.Should().Throw<Exception>().WithMessage("*predict-output.csv*3*");
    }

    [Fact]
    public void Run_LabelWithoutLandmarks_ThrowsNamingTheImage()
    {
        var request = WriteTinyLabelSet(new ExpressionFitOptions { UseAppearance = false });
        File.AppendAllText(request.LabelsPath, "Nobody_00.jpg,neutral\n");

        var act = () => ExpressionRefitter.Run(request);

        act.Should().Throw<KeyNotFoundException>().WithMessage("*Nobody_00.jpg*");
    }
}
