using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Tests;

namespace FacialKeypoints.Data.Tests.Transforms;

public sealed class AugmentationPreviewTests
{
    [Fact]
    public void Pipeline_OnRealFaces_WritesPreviewWithLandmarksOnFeatures()
    {
        var dataset = KeypointDataset.OpenSplit(TestEnvironment.KeypointData, "training");
        var pipeline = new Compose(new Rescale(160), new RandomAffine(15, 0.9f, 1.1f, 0.05f), new HorizontalFlip(dataset.Scheme, 1.0), new ColorJitter(0.3f, 0.3f, 0.3f));
        var tiles = new List<GalleryTile>();
        for (int i = 0; i < 8; i++)
        {
            var sample = pipeline.Apply(dataset.Load(i * 100), new Random(i));
            // The flip relabels, so the dataset's convention still holds: point 36 on the image's left of 45.
            sample.Keypoints[2 * 36].Should().BeLessThan(sample.Keypoints[2 * 45]);
            tiles.Add(new GalleryTile(sample.Image, [new KeypointLayer(sample.Keypoints, OverlayColor.Truth)], sample.Info.Name));
        }

        string path = Path.Combine(Path.GetTempPath(), "fkp-augmentation-preview.png");
        KeypointOverlay.SavePng(KeypointOverlay.Gallery(tiles, 4, 200, dataset.Scheme), path);
        File.Exists(path).Should().BeTrue();
    }
}
