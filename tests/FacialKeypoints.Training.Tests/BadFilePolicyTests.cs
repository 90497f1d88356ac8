using System.Globalization;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Training.Tests;

/// <summary>
/// The trainer's bad-file policy (docs/reliability.md): a keypoint dataset on disk with one truncated image (in
/// training) and one missing image (in validation) trains under <see cref="BadFilePolicy.Skip"/>, each file named
/// once in the log and counted, the run the same whatever the number of workers; under
/// <see cref="BadFilePolicy.Fail"/> (the default) the run stops with the error naming the file.
/// </summary>
[Collection("training")]
public sealed class BadFilePolicyTests : IDisposable
{
    private const int Corrupt = 3;
    private const int Missing = 10;
    private readonly string folder = TestEnvironment.NewTempDirectory();
    private readonly KeypointDataset all;

    public BadFilePolicyTests()
    {
        // Twelve synthetic faces as PNG files with their keypoint CSV; face 3 cut in half, face 10 deleted after
        // the CSV was checked at open (a file that vanishes or fails mid-run, not a row refused at open).
        var faces = new SyntheticFaces(12);
        string images = Path.Combine(folder, "training");
        Directory.CreateDirectory(images);
        var csv = new List<string> { "," + string.Join(",", Enumerable.Range(0, 136)) };
        for (int i = 0; i < faces.Count; i++)
        {
            var face = faces.Load(i);
            KeypointOverlay.SavePng(face.Image, Path.Combine(images, face.Info.Name));
            csv.Add(face.Info.Name + "," + string.Join(",", face.Keypoints.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }

        File.WriteAllLines(Path.Combine(folder, "training_frames_keypoints.csv"), csv);
        all = KeypointDataset.OpenSplit(folder, "training");
        byte[] png = File.ReadAllBytes(all.ImagePath(Corrupt));
        File.WriteAllBytes(all.ImagePath(Corrupt), png[..(png.Length / 2)]);
        File.Delete(all.ImagePath(Missing));
    }

    public void Dispose() => Directory.Delete(folder, true);

    private static TrainerOptions Options(BadFilePolicy policy, int workers = 2) => new()
    {
        Epochs = 2,
        BatchSize = 4,
        InputSize = 64,
        Loss = LossKind.L1,
        Workers = workers,
        TorchThreads = 1,
        Seed = 11,
        BadFiles = policy,
    };

    private TrainingResult Train(TrainerOptions options, string run, ListLogger? log = null)
    {
        var trainer = new KeypointTrainer(options, log);
        trainer.SeedInitialWeights();
        using var model = SyntheticFaces.Network(seed: 0);
        return trainer.Train(model, new FaceSubset(all, Enumerable.Range(0, 8)), new FaceSubset(all, Enumerable.Range(8, 4)), NormalizationSpec.ImageNet, Path.Combine(folder, run));
    }

    [Fact]
    public void Train_SkipPolicy_TrainsWithoutTheBadImagesAndNamesEachOnce()
    {
        var log = new ListLogger();
        var result = Train(Options(BadFilePolicy.Skip), "skip", log);

        result.History.Should().HaveCount(2);
        result.History.Should().OnlyContain(e => double.IsFinite(e.TrainLoss) && double.IsFinite(e.ValidationLoss));
        result.SkippedImages.Should().Equal(all.ImagePath(Corrupt), all.ImagePath(Missing));
        log.Warnings.Should().SatisfyRespectively(
            w => w.Should().Be($"Left out: Image '{all.ImagePath(Corrupt)}' is truncated (incomplete image data)."),
            w => w.Should().Match($"Left out: Image '{all.ImagePath(Missing)}' cannot be read: *"),
            w => w.Should().Be("2 image(s) could not be read or decoded and were left out of training and validation"));
    }

    [Fact]
    public void Train_SkipPolicy_SameRunWhateverTheNumberOfWorkers()
    {
        var one = Train(Options(BadFilePolicy.Skip, workers: 1), "one");
        var three = Train(Options(BadFilePolicy.Skip, workers: 3), "three");

        string Last(TrainingResult r) => Path.Combine(r.RunDirectory, KeypointTrainer.ReadState(r.RunDirectory)!.ModelFile!);
        File.ReadAllBytes(Last(three)).Should().Equal(File.ReadAllBytes(Last(one)), "the same samples are left out of the same batches");
        three.History.Select(e => e.TrainLoss).Should().Equal(one.History.Select(e => e.TrainLoss));
    }

    [Theory]
    [InlineData(Corrupt, "is truncated*")]
    [InlineData(Missing, "cannot be read*")]
    public void Train_FailPolicy_StopsWithTheErrorNamingTheFile(int bad, string problem)
    {
        // Only the bad image among good ones, so the run meets it whichever split it is in.
        var options = Options(BadFilePolicy.Fail);
        using var model = SyntheticFaces.Network();
        var train = new FaceSubset(all, [0, 1, 2, 4, bad, 5, 6, 7]);

        FluentActions.Invoking(() => new KeypointTrainer(options).Train(model, train, new FaceSubset(all, [8, 9]), NormalizationSpec.ImageNet, Path.Combine(folder, "fail")))
            .Should().Throw<ImageDecodeException>().Where(e => e.FilePath == all.ImagePath(bad))
            .WithMessage($"Image '{all.ImagePath(bad)}' {problem}");
    }
}
