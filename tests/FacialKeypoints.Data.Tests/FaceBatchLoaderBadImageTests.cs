using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Data.Tests.Transforms;

namespace FacialKeypoints.Data.Tests;

/// <summary>
/// An image that cannot be decoded in the middle of an epoch (docs/reliability.md): the loader's documented
/// <see cref="ImageDecodeException"/> naming the file reaches the caller, not Parallel's or the Task's wrapper, so
/// the trainer can print it on one line. Under <see cref="BadFilePolicy.Skip"/> the sample is left out of its batch
/// and the file reported once, and the batches are the same whatever the number of workers.
/// </summary>
public sealed class FaceBatchLoaderBadImageTests
{
    private sealed class OneBadImage(int count, int bad) : IFaceDataset
    {
        public int Count => count;

        public LandmarkScheme Scheme => LandmarkScheme.Ibug68;

        public SampleInfo GetInfo(int index) => new(index, $"p_{index:D2}.jpg", "p", 40, 30);

        public FaceSample Load(int index) => index == bad
            ? throw new ImageDecodeException($"p_{index:D2}.jpg", "is truncated (incomplete image data)")
            : TransformTests.Synthetic(40, 30) with { Info = GetInfo(index) };
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(4, 7)]
    [InlineData(2, 11)]
    public void Epoch_ImageThatCannotBeDecoded_ThrowsItsImageDecodeException(int workers, int bad)
    {
        var loader = new FaceBatchLoader(new OneBadImage(12, bad), new Rescale(32), new BatchLoaderOptions { BatchSize = 4, Workers = workers });

        var act = () =>
        {
            foreach (var batch in loader.Epoch(0))
            {
                batch.Dispose();
            }
        };

        act.Should().Throw<ImageDecodeException>().Which.FilePath.Should().Be($"p_{bad:D2}.jpg");
    }

    [Fact]
    public void Epoch_SkipPolicy_LeavesBadSamplesOutAndReportsEachFileOnce()
    {
        var runs = new List<(List<string[]> Names, List<string> Reported)>();
        foreach (int workers in new[] { 1, 4 })
        {
            var reported = new List<string>();
            var loader = new FaceBatchLoader(new OneBadImage(12, 7), new Rescale(32), new BatchLoaderOptions
            {
                BatchSize = 4,
                Shuffle = true,
                Seed = 3,
                Workers = workers,
                BadFiles = BadFilePolicy.Skip,
                OnImageSkipped = e => reported.Add(e.FilePath!),
            });
            var names = new List<string[]>();
            foreach (int epoch in new[] { 0, 1 })
            {
                foreach (var batch in loader.Epoch(epoch))
                {
                    using (batch)
                    {
                        batch.Images.shape[0].Should().Be(batch.Count);
                        names.Add([.. batch.Infos.Select(i => i.Name)]);
                    }
                }
            }

            names.SelectMany(n => n).Should().HaveCount(22, "11 good samples in each of two epochs").And.NotContain("p_07.jpg");
            names.Count(n => n.Length == 3).Should().Be(2, "the batch that held the bad sample is one smaller in each epoch");
            reported.Should().Equal(["p_07.jpg"], "a file is reported the first time it is left out, not every epoch");
            runs.Add((names, reported));
        }

        runs[1].Names.Should().BeEquivalentTo(runs[0].Names, o => o.WithStrictOrdering(), "the batches do not depend on the number of workers");
    }

    [Fact]
    public void Epoch_SkipPolicy_BatchOfOnlyBadSamplesIsNotYielded()
    {
        var loader = new FaceBatchLoader(new OneBadImage(5, 4), new Rescale(32), new BatchLoaderOptions { BatchSize = 4, BadFiles = BadFilePolicy.Skip });

        var counts = loader.Epoch(0).Select(b =>
        {
            using (b)
            {
                return b.Count;
            }
        }).ToList();

        counts.Should().Equal(4);
    }
}
