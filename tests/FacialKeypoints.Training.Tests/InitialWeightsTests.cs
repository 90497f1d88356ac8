using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Backbones;
using FacialKeypoints.Models.Heads;
using FacialKeypoints.Tests;
using TorchSharp;

namespace FacialKeypoints.Training.Tests;

/// <summary>
/// <see cref="KeypointTrainer.SeedInitialWeights"/>: a network built from random initialisation right after it is a
/// function of <see cref="TrainerOptions.Seed"/> only, so a run from scratch is repeatable from its seed.
/// </summary>
[Collection("training")]
public sealed class InitialWeightsTests : IDisposable
{
    private readonly string run = TestEnvironment.NewTempDirectory();

    public void Dispose() => Directory.Delete(run, true);

    private static KeypointNetwork Build(int seed)
    {
        torch.rand(17).Dispose(); // whatever the generator did before: the seed decides
        new KeypointTrainer(new TrainerOptions { Seed = seed }).SeedInitialWeights();
        return new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new SpatialHead(512, 68, 2));
    }

    private static bool SameWeights(KeypointNetwork a, KeypointNetwork b) =>
        a.state_dict().Zip(b.state_dict()).All(p => p.First.Key == p.Second.Key && p.First.Value.bytes.SequenceEqual(p.Second.Value.bytes));

    [Fact]
    public void SeedInitialWeights_SameSeed_BitwiseEqualNetworks_OtherSeedDiffers()
    {
        using var first = Build(7);
        using var second = Build(7);
        using var other = Build(8);

        SameWeights(first, second).Should().BeTrue();
        SameWeights(first, other).Should().BeFalse();
    }

    [Fact]
    public void Train_FromScratchTwiceWithTheSameSeed_IdenticalWeights()
    {
        var files = new List<byte[]>();
        foreach (string name in new[] { "a", "b" })
        {
            var options = new TrainerOptions { Epochs = 1, BatchSize = 4, InputSize = 64, Workers = 2, TorchThreads = 1, Seed = 21, MaxSteps = 2 };
            var trainer = new KeypointTrainer(options);
            trainer.SeedInitialWeights();
            using var model = new KeypointNetwork(new ResNet18Backbone(ResNet18Layout.Standard), new ReferenceHead(512, 68));
            var result = trainer.Train(model, new SyntheticFaces(8), new SyntheticFaces(4), NormalizationSpec.ImageNet, Path.Combine(run, name));
            files.Add(File.ReadAllBytes(Path.Combine(result.RunDirectory, KeypointTrainer.ReadState(result.RunDirectory)!.ModelFile!)));
        }

        files[1].Should().Equal(files[0]);
    }
}
