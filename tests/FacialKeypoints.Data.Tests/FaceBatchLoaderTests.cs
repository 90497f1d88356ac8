using FacialKeypoints.Data.Tests.Transforms;
using FacialKeypoints.Data.Transforms;

namespace FacialKeypoints.Data.Tests;

public sealed class FaceBatchLoaderTests
{
    private sealed class InMemory(int count) : IFaceDataset
    {
        public int Loads;

        public int Count => count;

        public LandmarkScheme Scheme => LandmarkScheme.Ibug68;

        public SampleInfo GetInfo(int index) => new(index, $"p_{index:D2}.jpg", "p", 40 + index, 30);

        public FaceSample Load(int index)
        {
            Interlocked.Increment(ref Loads);
            var sample = TransformTests.Synthetic(40 + index, 30);
            return sample with { Info = GetInfo(index) };
        }
    }

    private static readonly IKeypointTransform Augment = new Compose(new Rescale(32), new RandomAffine(10, 0.9f, 1.1f, 0.05f), new HorizontalFlip(LandmarkScheme.Ibug68));

    private static List<(string[] Names, float[] Images, float[] Keypoints)> Collect(FaceBatchLoader loader, int epoch) =>
        [.. loader.Epoch(epoch).Select(b =>
        {
            using (b)
            {
                return (b.Infos.Select(i => i.Name).ToArray(), b.Images.data<float>().ToArray(), b.Keypoints.data<float>().ToArray());
            }
        })];

    [Fact]
    public void Epoch_GivesNormalisedTensorsOfExpectedShape()
    {
        var loader = new FaceBatchLoader(new InMemory(10), new Rescale(32), new BatchLoaderOptions { BatchSize = 4 });
        var batches = loader.Epoch(0).ToList();
        batches.Select(b => b.Count).Should().Equal(4, 4, 2);
        batches[0].Images.shape.Should().Equal(4, 3, 32, 32);
        batches[0].Keypoints.shape.Should().Equal(4, 136);
        batches[0].Keypoints.abs().max().item<float>().Should().BeLessThanOrEqualTo(1.01f);
        batches.ForEach(b => b.Dispose());
    }

    [Fact]
    public void Epoch_SameSeed_SameBatchesWhateverTheWorkerCount()
    {
        var one = Collect(new FaceBatchLoader(new InMemory(12), Augment, new BatchLoaderOptions { BatchSize = 5, Shuffle = true, Seed = 9, Workers = 1 }), 3);
        var four = Collect(new FaceBatchLoader(new InMemory(12), Augment, new BatchLoaderOptions { BatchSize = 5, Shuffle = true, Seed = 9, Workers = 4, Prefetch = 1 }), 3);
        one.Should().HaveCount(3);
        for (int i = 0; i < one.Count; i++)
        {
            one[i].Names.Should().Equal(four[i].Names);
            one[i].Images.Should().Equal(four[i].Images);
            one[i].Keypoints.Should().Equal(four[i].Keypoints);
        }
    }

    [Fact]
    public void Epoch_DifferentEpochs_ShuffleDifferently()
    {
        var loader = new FaceBatchLoader(new InMemory(20), new Rescale(32), new BatchLoaderOptions { BatchSize = 20, Shuffle = true, Seed = 1 });
        loader.Order(0).Should().NotEqual(loader.Order(1));
        loader.Order(0).Should().BeEquivalentTo(Enumerable.Range(0, 20));
    }

    [Fact]
    public void Epoch_DropLast_LeavesOutPartialBatch() =>
        new FaceBatchLoader(new InMemory(10), new Rescale(32), new BatchLoaderOptions { BatchSize = 4, DropLast = true }).Epoch(0).Select(b => b.Count).Should().Equal(4, 4);

    [Fact]
    public void Epoch_MixedSizesWithoutRescale_NamesTheSample()
    {
        var loader = new FaceBatchLoader(new InMemory(3), null, new BatchLoaderOptions { BatchSize = 3 });
        FluentActions.Invoking(() => loader.Epoch(0).ToList()).Should().Throw<InvalidOperationException>().WithMessage("Sample 'p_01.jpg' is 41x30 but the batch is 40x30*");
    }

    [Fact]
    public void CachedDataset_LoadsEachSampleOnce()
    {
        var inner = new InMemory(6);
        var cached = new CachedFaceDataset(inner, new Rescale(32));
        var loader = new FaceBatchLoader(cached, new HorizontalFlip(LandmarkScheme.Ibug68), new BatchLoaderOptions { BatchSize = 3, Shuffle = true });
        var first = Collect(loader, 0);
        var again = Collect(loader, 0);
        inner.Loads.Should().Be(6);
        cached.CachedCount.Should().Be(6);
        first[0].Images.Should().Equal(again[0].Images);
    }

    [Theory]
    [InlineData(0, 1, 1, "*BatchSize*")]
    [InlineData(4, 0, 1, "*Workers*")]
    [InlineData(4, 1, 0, "*Prefetch*")]
    public void Options_OutOfRange_AreRefusedByName(int batchSize, int workers, int prefetch, string message) =>
        FluentActions.Invoking(() => new FaceBatchLoader(new InMemory(2), null, new BatchLoaderOptions { BatchSize = batchSize, Workers = workers, Prefetch = prefetch }))
            .Should().Throw<System.ComponentModel.DataAnnotations.ValidationException>().WithMessage(message);

    [Fact]
    public void CachedDataset_RandomPreparation_IsRefused() =>
        FluentActions.Invoking(() => new CachedFaceDataset(new InMemory(2), new HorizontalFlip(LandmarkScheme.Ibug68)))
            .Should().Throw<ArgumentException>().WithMessage("*deterministic*");

    [Fact]
    public void Epoch_StoppedEarly_DoesNotHang()
    {
        var loader = new FaceBatchLoader(new InMemory(40), new Rescale(32), new BatchLoaderOptions { BatchSize = 2, Prefetch = 1 });
        using var first = loader.Epoch(0).First();
        first.Count.Should().Be(2);
    }

    [Fact]
    public void Images_UseConfiguredNormalisation()
    {
        var image = new RgbImage(32, 32);
        Array.Fill(image.Pixels, (byte)255);
        var dataset = new Single(new FaceSample(image, new float[136], new SampleInfo(0, "w_00.jpg", "w", 32, 32)));
        var normalization = new NormalizationSpec([0.5f, 0.5f, 0.5f], [0.25f, 0.5f, 1f]);
        using var batch = new FaceBatchLoader(dataset, null, new BatchLoaderOptions { BatchSize = 1, Normalization = normalization }).Epoch(0).Single();
        batch.Images[0, 0, 0, 0].item<float>().Should().BeApproximately(2f, 1e-5f);
        batch.Images[0, 1, 0, 0].item<float>().Should().BeApproximately(1f, 1e-5f);
        batch.Images[0, 2, 0, 0].item<float>().Should().BeApproximately(0.5f, 1e-5f);
    }

    private sealed class Single(FaceSample sample) : IFaceDataset
    {
        public int Count => 1;

        public LandmarkScheme Scheme => LandmarkScheme.Ibug68;

        public SampleInfo GetInfo(int index) => sample.Info;

        public FaceSample Load(int index) => sample;
    }
}
