using FacialKeypoints.Data;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Tests;
using TorchSharp;

namespace FacialKeypoints.Training.Tests;

[Collection("training")] // libtorch's thread count is process-wide: keep these runs apart.
public sealed class KeypointTrainerTests : IDisposable
{
    private readonly string run = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(run, true);

    private static TrainerOptions Options(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 4,
        InputSize = 64,
        LearningRate = 1e-3,
        Loss = LossKind.L1,
        Workers = 1,
        TorchThreads = 1,
        Seed = 3,
        MaxRotationDegrees = 5,
    };

    [Fact]
    public void Train_FewSyntheticSamples_LossFallsAndRunFolderIsComplete()
    {
        using var model = SyntheticFaces.Network();
        var result = new KeypointTrainer(Options(4)).Train(model, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, run);
        result.History.Should().HaveCount(4);
        result.History[^1].TrainLoss.Should().BeLessThan(result.History[0].TrainLoss);
        foreach (string file in new[] { "metrics.csv", "curves.png", "state.json", KeypointTrainer.BestModelFile })
        {
            File.Exists(Path.Combine(run, file)).Should().BeTrue(file);
        }

        MetricsCsv.Read(Path.Combine(run, "metrics.csv")).Should().BeEquivalentTo(
            result.History,
            o => o.Excluding(m => m.Seconds).Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-4)).WhenTypeIs<double>());
        KeypointTrainer.ReadState(run)!.CompletedEpochs.Should().Be(4);
        Directory.GetFiles(run, "last-model-*").Should().HaveCount(2, "the latest checkpoint and the one before it (the fallback) are kept, older ones removed");
    }

    [Fact]
    public void Train_InterruptedThenResumed_MatchesUninterruptedRun()
    {
        using var straight = SyntheticFaces.Network();
        string straightRun = Path.Combine(run, "straight");
        new KeypointTrainer(Options(2)).Train(straight, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, straightRun);

        // Same run stopped after one epoch (as a kill would leave it), then resumed by a new process-like trainer.
        string resumedRun = Path.Combine(run, "resumed");
        using (var first = SyntheticFaces.Network())
        {
            var options = Options(2);
            options.MaxSteps = 2; // one epoch of 8 samples in batches of 4
            new KeypointTrainer(options).Train(first, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, resumedRun);
        }

        KeypointTrainer.ReadState(resumedRun)!.CompletedEpochs.Should().Be(1);
        using var resumed = SyntheticFaces.Network(seed: 99); // different initial weights: resume must replace them
        var result = new KeypointTrainer(Options(2)).Train(resumed, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, resumedRun);

        result.History.Should().HaveCount(2);
        var a = straight.parameters().ToArray();
        var b = resumed.parameters().ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            (a[i] - b[i]).abs().max().item<float>().Should().BeLessThan(1e-5f, $"parameter {i} should match");
        }
    }

    [Fact]
    public void Train_Cancelled_KeepsLastFinishedEpochAndThrows()
    {
        using var model = SyntheticFaces.Network();
        using var cancel = new CancellationTokenSource();
        var trainer = new KeypointTrainer(Options(3));
        var act = () => trainer.Train(model, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, run, new SynchronousProgress(p => CancelAt(p, 2, cancel)), cancel.Token);
        act.Should().Throw<OperationCanceledException>();
        KeypointTrainer.ReadState(run)!.CompletedEpochs.Should().Be(1);
    }

    [Fact]
    public void Train_NoTensorLeaksPerStep()
    {
        using var model = SyntheticFaces.Network();
        var options = Options(1);
        long before = torch.Tensor.TotalCount;
        new KeypointTrainer(options).Train(model, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, run);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long after = torch.Tensor.TotalCount;
        // The optimiser's state (two moments per parameter plus a step count) stays alive until it is disposed
        // inside Train, so what is left must be small and independent of the number of steps.
        (after - before).Should().BeLessThan(50);
    }

    private static void CancelAt(TrainingProgress progress, int epoch, CancellationTokenSource cancel)
    {
        if (progress.Epoch == epoch)
        {
            cancel.Cancel();
        }
    }

    private sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
