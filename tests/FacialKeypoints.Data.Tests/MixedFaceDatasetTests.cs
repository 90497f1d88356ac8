using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Data.Tests;

public sealed class MixedFaceDatasetTests
{
    private sealed class Fake(int count, string prefix) : IFaceDataset
    {
        public int Count => count;

        public LandmarkScheme Scheme => LandmarkScheme.Ibug68;

        public SampleInfo GetInfo(int index) => new(index, $"{prefix}_{index:D2}.jpg", prefix, 8, 8);

        public FaceSample Load(int index) => new(new RgbImage(8, 8), new float[136], GetInfo(index));
    }

    private static MixedFaceDataset Mix(double? a, double? b, double? c) =>
        new([new FaceSource(new Fake(100, "a"), a), new FaceSource(new Fake(10, "b"), b), new FaceSource(new Fake(40, "c"), c)]);

    [Fact]
    public void Locate_RunsThroughSourcesInOrder()
    {
        var mix = Mix(null, null, null);
        mix.Count.Should().Be(150);
        mix.Locate(0).Should().Be((0, 0));
        mix.Locate(99).Should().Be((0, 99));
        mix.Locate(100).Should().Be((1, 0));
        mix.Locate(110).Should().Be((2, 0));
        mix.GetInfo(149).Name.Should().Be("c_39.jpg");
    }

    [Fact]
    public void DrawsPerSource_FollowsWeightsAndSumsToEpoch()
    {
        Mix(0.6, 0.2, 0.2).DrawsPerSource(150).Should().Equal(90, 30, 30);
        Mix(3, 1, 1).DrawsPerSource(151).Should().Equal(91, 30, 30);
        Mix(null, null, null).DrawsPerSource(150).Should().Equal(100, 10, 40);
    }

    [Fact]
    public void Sampler_DrawsEachSourceItsShare()
    {
        var mix = Mix(0.6, 0.2, 0.2);
        var order = mix.CreateSampler(seed: 1).Order(0);
        order.Should().HaveCount(150);
        order.Select(i => mix.Locate(i).Source).GroupBy(s => s).OrderBy(g => g.Key).Select(g => g.Count()).Should().Equal(90, 30, 30);

        // The small source repeats only after every sample has been used: 30 draws of 10 samples, 3 of each.
        order.Where(i => mix.Locate(i).Source == 1).GroupBy(i => i).Select(g => g.Count()).Should().AllSatisfy(n => n.Should().Be(3));

        // The subsampled source draws distinct samples, and a different subset in another epoch.
        var first = order.Where(i => i < 100).ToArray();
        first.Should().OnlyHaveUniqueItems();
        mix.CreateSampler(seed: 1).Order(1).Where(i => i < 100).Should().NotBeEquivalentTo(first);
    }

    [Fact]
    public void Sampler_SameSeedAndEpoch_SameOrder()
    {
        Mix(0.6, 0.2, 0.2).CreateSampler(7).Order(3).Should().Equal(Mix(0.6, 0.2, 0.2).CreateSampler(7).Order(3));
        Mix(0.6, 0.2, 0.2).CreateSampler(7).Order(3).Should().NotEqual(Mix(0.6, 0.2, 0.2).CreateSampler(8).Order(3));
    }

    [Fact]
    public void Sampler_WithoutWeights_VisitsEverySampleOnce()
    {
        Mix(null, null, null).CreateSampler(3).Order(0).Order().Should().Equal(Enumerable.Range(0, 150));
    }

    [Fact]
    public void Constructor_WeightsOnSomeSourcesOnly_Throws()
    {
        FluentActions.Invoking(() => Mix(0.5, null, 0.5)).Should().Throw<ArgumentException>().WithMessage("*every source or to none*");
        FluentActions.Invoking(() => Mix(0.5, 0, 0.5)).Should().Throw<ArgumentException>().WithMessage("*positive*");
    }

    [Fact]
    public void Loader_WithSampler_UsesItsEpochLength()
    {
        var mix = Mix(0.6, 0.2, 0.2);
        var loader = new FaceBatchLoader(mix, null, new BatchLoaderOptions { BatchSize = 32, DropLast = true, Workers = 1, Sampler = mix.CreateSampler(1, 64) });
        loader.BatchesPerEpoch.Should().Be(2);
        loader.Order(0).Should().Equal(mix.CreateSampler(1, 64).Order(0));
    }

    [Fact]
    public void Loader_RepeatedSample_GetsItsOwnAugmentation()
    {
        var mix = Mix(0.1, 0.8, 0.1);
        var loader = new FaceBatchLoader(mix, new RandomAffine(10, 0.9f, 1.1f, 0.1f), new BatchLoaderOptions { Workers = 1, Sampler = mix.CreateSampler(1) });
        loader.Prepare(100, 0, 1).Keypoints.Should().NotEqual(loader.Prepare(100, 0, 0).Keypoints);
        loader.Prepare(100, 0, 1).Keypoints.Should().Equal(loader.Prepare(100, 0, 1).Keypoints);
    }

    [Fact]
    public void SourceAugmentation_AppliesOnlyToItsSource_BeforeTheShared()
    {
        // Source b (index 1) gets its own step: a shift of +1 px; the shared step shifts every sample by +10 px.
        var mix = new MixedFaceDataset([new FaceSource(new Fake(5, "a")), new FaceSource(new Fake(5, "b"), Augmentation: new Shift(1))]);
        mix.Load(7).Info.Source.Should().Be(1);
        mix.GetInfo(2).Source.Should().Be(0);
        var transform = mix.WithSourceAugmentation(new Shift(10));
        transform.Apply(mix.Load(2), new Random(1)).Keypoints[0].Should().Be(10);
        transform.Apply(mix.Load(7), new Random(1)).Keypoints[0].Should().Be(11);

        // Without any source's own steps the shared transform is used as it is.
        var shared = new Shift(10);
        Mix(null, null, null).WithSourceAugmentation(shared).Should().BeSameAs(shared);
    }

    private sealed class Shift(float by) : IKeypointTransform
    {
        public bool IsRandom => false;

        public FaceSample Apply(FaceSample sample, Random random) => sample with { Keypoints = [.. sample.Keypoints.Select(k => k + by)] };
    }
}
