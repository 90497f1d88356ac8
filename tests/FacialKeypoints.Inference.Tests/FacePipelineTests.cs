using System.Collections.Concurrent;

namespace FacialKeypoints.Inference.Tests;

/// <summary>The default pipeline (shipped detector and int8 landmark network), built once for the class.</summary>
public sealed class PipelineFixture : IDisposable
{
    public FacePipeline Default { get; } = new(new FacePipelineOptions { Expression = false });

    public FacePipeline WithExpression { get; } = new();

    public void Dispose()
    {
        Default.Dispose();
        WithExpression.Dispose();
    }
}

public sealed class FacePipelineTests(PipelineFixture pipelines) : IClassFixture<PipelineFixture>
{
    /// <summary>Mean point error over the inter-ocular distance (outer eye corners), in the image's own pixels.</summary>
    private static double Nme(float[] predicted, float[] truth) =>
        Enumerable.Range(0, 68).Average(i => Math.Sqrt(Math.Pow(predicted[2 * i] - truth[2 * i], 2) + Math.Pow(predicted[(2 * i) + 1] - truth[(2 * i) + 1], 2)))
        / LandmarkScheme.Ibug68.NormalisingDistance(truth);

    [Theory]
    [InlineData(0)]
    [InlineData(250)]
    [InlineData(600)]
    public void Process_TestCrop_OneFaceWithLandmarksOnIt(int row)
    {
        var (image, truth) = TestImages.Face(row);

        var face = pipelines.Default.Process(image).Should().ContainSingle().Subject;

        Nme(face.Landmarks, truth).Should().BeLessThan(0.12);
        face.Landmarks.Should().HaveCount(136);
        face.Score.Should().BeInRange(0.5f, 1f);
        face.Expression.Should().BeNull();
    }

    public static TheoryData<int, (int Row, float X, float Y, float FaceWidth)[]> Scenes => new()
    {
        // Faces (landmark boxes) 60-250 px wide in photo-sized scenes; the landmarks move with the pasted crops.
        { 1280, [(10, 20, 30, 250), (120, 650, 60, 150), (300, 980, 100, 100), (450, 560, 420, 60)] },
        { 960, [(17, 40, 100, 120), (222, 420, 90, 80), (333, 700, 60, 60), (444, 250, 420, 70), (555, 600, 380, 90)] },
        { 640, [(31, 30, 40, 140), (62, 330, 100, 120)] },
        { 1920, [(5, 100, 200, 60), (50, 900, 500, 60), (95, 1500, 600, 200), (140, 1300, 80, 80)] },
    };

    [Theory]
    [MemberData(nameof(Scenes))]
    public void Process_SceneWithSeveralFaces_FindsEachAndPutsItsLandmarksOnIt(int width, (int Row, float X, float Y, float FaceWidth)[] placed)
    {
        var (scene, truths) = TestImages.Scene(width, width * 9 / 16, placed);

        var faces = pipelines.Default.Process(scene);

        faces.Count.Should().BeGreaterThanOrEqualTo(placed.Length, "a pasted crop may also show a second person");
        foreach (var truth in truths)
        {
            var face = faces.MaxBy(f => f.Box.IntersectionOverUnion(FaceBox.Around(truth)))!;
            Nme(face.Landmarks, truth).Should().BeLessThan(0.15, "each pasted face gets its own landmarks");
        }
    }

    [Fact]
    public void Process_Defaults_GiveEachFaceAnExpressionWithBothHeadsSummingToOne()
    {
        var (scene, _) = TestImages.Scene(800, 450, (0, 40, 60, 120), (300, 450, 80, 110));

        var faces = pipelines.WithExpression.Process(scene);

        faces.Should().HaveCountGreaterThanOrEqualTo(2);
        foreach (var face in faces)
        {
            var e = face.Expression!;
            e.Probabilities.Should().HaveCount(3).And.OnlyContain(p => p >= 0 && p <= 1);
            e.Probabilities.Sum().Should().BeApproximately(1f, 1e-4f);
            e.EmotionProbabilities.Should().HaveCount(7);
            e.EmotionProbabilities.Sum().Should().BeApproximately(1f, 1e-4f);
            e.ProbabilityOf(e.Label).Should().Be(e.Probabilities.Max());
            e.ProbabilityOf(e.Emotion).Should().Be(e.EmotionProbabilities.Max());
        }
    }

    [Fact]
    public void Process_SmilingTestFaces_MostlyPositive()
    {
        // Labelled positive in ../shared/data/expression-labels (training frames, not test crops of the split).
        var labels = File.ReadLines(Path.Combine(TestEnvironment.DataRoot, "expression-labels", "training_expression_labels.csv")).Skip(1)
            .Select(l => l.Split(',')).Where(f => f.Length >= 2 && f[1].Trim() == "positive").Take(20).Select(f => f[0]).ToArray();
        int positive = labels.Count(name =>
        {
            var faces = pipelines.WithExpression.Process(Path.Combine(TestEnvironment.KeypointData, "training", name));
            return faces.Count > 0 && faces[0].Expression!.Label == ExpressionLabel.Positive;
        });

        positive.Should().BeGreaterThanOrEqualTo(12, "most faces our labellers called smiling come out positive");
    }

    [Fact]
    public void Process_BlankImage_FindsNoFace()
    {
        var blank = new RgbImage(400, 300);
        Array.Fill(blank.Pixels, (byte)90);
        pipelines.Default.Process(blank).Should().BeEmpty();
    }

    [Fact]
    public void Process_PathBytesAndStream_GiveTheSameFaces()
    {
        string path = Path.Combine(TestEnvironment.KeypointData, "test", TestImages.Rows[5].Name);
        var fromPath = pipelines.Default.Process(path);
        var fromBytes = pipelines.Default.Process(File.ReadAllBytes(path), "bytes");
        using var stream = File.OpenRead(path);
        var fromStream = pipelines.Default.Process(stream);

        fromBytes.Should().BeEquivalentTo(fromPath);
        fromStream.Should().BeEquivalentTo(fromPath);
    }

    [Fact]
    public void Process_UnreadableFile_ThrowsNamingIt()
    {
        string path = Path.Combine(TestEnvironment.NewTempDirectory(), "not-an-image.jpg");
        File.WriteAllText(path, "hello");
        FluentActions.Invoking(() => pipelines.Default.Process(path)).Should().Throw<ImageDecodeException>().WithMessage("*not-an-image.jpg*");
    }

    [Fact]
    public void Process_EightThreadsAtOnce_GiveTheSequentialResults()
    {
        var images = Enumerable.Range(0, 8).Select(i => TestImages.Face(i * 37).Image).ToArray();
        var sequential = images.Select(i => pipelines.Default.Process(i)).ToArray();
        var concurrent = new ConcurrentBag<(int, IReadOnlyList<FaceResult>)>();

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n => concurrent.Add((n % 8, pipelines.Default.Process(images[n % 8]))));

        concurrent.Should().HaveCount(64);
        foreach (var (index, faces) in concurrent)
        {
            faces.Should().BeEquivalentTo(sequential[index]);
        }
    }

    [Fact]
    public void Track_FaceMovedByAFewPixels_FollowsIt()
    {
        var (first, truth1) = TestImages.Scene(640, 480, (7, 100, 80, 90));
        var (second, truth2) = TestImages.Scene(640, 480, (7, 112, 86, 90));
        var found = pipelines.Default.Process(first);

        var followed = pipelines.Default.Track(second, found);

        followed.Should().ContainSingle();
        Nme(followed[0].Landmarks, truth2[0]).Should().BeLessThan(0.12);
        Nme(followed[0].Landmarks, truth1[0]).Should().BeGreaterThan(Nme(followed[0].Landmarks, truth2[0]));
    }

    [Fact]
    public void Constructor_BadOptions_ThrowsValidationNamingTheOption() =>
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Threads = 0 }))
            .Should().Throw<System.ComponentModel.DataAnnotations.ValidationException>().WithMessage("*Threads*");

    [Fact]
    public void Constructor_MissingModelFile_ThrowsNamingIt() =>
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { LandmarkModelPath = "/no/such/model.onnx" }))
            .Should().Throw<FileNotFoundException>().WithMessage("*/no/such/model.onnx*");

    [Fact]
    public void Constructor_NotAnOnnxFile_ThrowsInvalidDataNamingIt()
    {
        string path = Path.Combine(TestEnvironment.NewTempDirectory(), "fake.onnx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { LandmarkModelPath = path, Expression = false }))
            .Should().Throw<InvalidDataException>().WithMessage("*fake.onnx*");
    }

    [Fact]
    public void Constructor_Float32WithoutAModelFile_SaysHowToGetOne() =>
        FluentActions.Invoking(() => new FacePipeline(new FacePipelineOptions { Precision = InferencePrecision.Float32 }))
            .Should().Throw<System.ComponentModel.DataAnnotations.ValidationException>().WithMessage("*fkp export --onnx*");
}
