using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Data.Tests.Transforms;

namespace FacialKeypoints.Data.Tests;

/// <summary>
/// An image that cannot be decoded in the middle of an epoch (docs/reliability.md): the loader's documented
/// <see cref="ImageDecodeException"/> naming the file reaches the caller, not Parallel's or the Task's wrapper, so
/// the trainer can print it on one line.
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
}
