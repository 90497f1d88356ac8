using FacialKeypoints.Emotion;
using TorchSharp;

namespace FacialKeypoints.EmotionFit.Tests;

/// <summary>
/// <c>--weights A.bin,B.bin</c>: the evaluation averages the runs' weights (a model soup) and re-estimates the batch
/// norms on training faces before anything is measured.
/// </summary>
public sealed class ExpressionSoupTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fkp-soup-").FullName;

    [Fact]
    public void Soup_TwoRuns_AveragesTheWeightsAndReestimatesTheBatchNorms()
    {
        string a = Save(seed: 1), b = Save(seed: 2);
        var (bank, training) = Faces(count: 8);

        string path = ExpressionEvaluation.Soup([a, b], training, bank, borderFill: 0.75, Path.Combine(folder, "soup.bin"), _ => { }, batches: 3);

        using var soup = Load(path);
        using var first = Load(a);
        using var second = Load(b);
        var weights = soup.state_dict();
        var (wa, wb) = (first.state_dict(), second.state_dict());
        const string conv = "backbone.layer3.0.conv1.weight";
        weights[conv].allclose((wa[conv] + wb[conv]) / 2, rtol: 1e-5, atol: 1e-7).Should().BeTrue("the weights are the runs' mean");
        const string head = "classifier.weight";
        weights[head].allclose((wa[head] + wb[head]) / 2, rtol: 1e-5, atol: 1e-7).Should().BeTrue();
        const string mean = "backbone.bn1.running_mean";
        weights[mean].allclose((wa[mean] + wb[mean]) / 2).Should().BeFalse("the batch norms' statistics come from the training faces, not from the runs");
        weights[mean].abs().sum().item<float>().Should().BeGreaterThan(0);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static ExpressionNetwork Load(string path)
    {
        var net = new ExpressionNetwork(3, ExpressionTraining.OutputCount, 0.2);
        net.load(path);
        return net;
    }

    private string Save(int seed)
    {
        torch.manual_seed(seed);
        using var net = new ExpressionNetwork(3, ExpressionTraining.OutputCount, 0.2);
        string path = Path.Combine(folder, $"run{seed}.bin");
        net.save(path);
        return path;
    }

    private static (CropBank Bank, List<ExpressionItem> Items) Faces(int count)
    {
        var bank = new CropBank();
        var items = new List<ExpressionItem>();
        var rng = new Random(3);
        int pixels = CropBank.BaseSize * CropBank.BaseSize;
        for (int k = 0; k < count; k++)
        {
            var crop = new byte[pixels];
            rng.NextBytes(crop);
            var inside = Enumerable.Repeat((byte)255, pixels).ToArray();
            string path = $"face{k}.png";
            bank.Add(path, crop, inside);
            items.Add(new ExpressionItem("fer", path, k % 7, k % 3, $"g{k}", "train"));
        }

        return (bank, items);
    }
}
