using BenchmarkDotNet.Attributes;
using FacialKeypoints.Inference.Runtime;
using FacialKeypoints.Models;
using FacialKeypoints.Models.Checkpoints;
using FacialKeypoints.Models.Inference;
using TorchSharp;

namespace FacialKeypoints.Inference.Benchmarks;

/// <summary>The landmark network alone (input already made), per backend and precision, one face and a batch of 16.</summary>
[MemoryDiagnoser]
public class LandmarkNetworkBenchmarks
{
    private OnnxNetwork int8 = null!;
    private OnnxNetwork float32 = null!;
    private KeypointNetwork torchNetwork = null!;
    private float[] one = [];
    private float[] sixteen = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int8 = OnnxNetwork.Open(ShippedModels.Read(ShippedModels.LandmarksInt8), "int8", Threads);
        float32 = OnnxNetwork.Open(Inputs.Float32LandmarkModel, Threads);
        torch.set_num_threads(Threads);
        (torchNetwork, _) = KeypointCheckpoint.Load(ShippedModel.FindOrThrow());
        torchNetwork.eval();
        var random = new Random(1);
        one = [.. Enumerable.Range(0, 3 * 160 * 160).Select(_ => (float)random.NextDouble() - 0.5f)];
        sixteen = [.. Enumerable.Range(0, 16).SelectMany(_ => one)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        int8.Dispose();
        float32.Dispose();
        torchNetwork.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float[] OnnxInt8Batch1() => int8.Run(one, [1, 3, 160, 160]);

    [Benchmark(OperationsPerInvoke = 16)]
    public float[] OnnxInt8Batch16() => int8.Run(sixteen, [16, 3, 160, 160]);

    [Benchmark]
    public float[] OnnxFloat32Batch1() => float32.Run(one, [1, 3, 160, 160]);

    [Benchmark(OperationsPerInvoke = 16)]
    public float[] OnnxFloat32Batch16() => float32.Run(sixteen, [16, 3, 160, 160]);

    [Benchmark]
    public float[] TorchSharpFloat32Batch1() => Torch(one, 1);

    [Benchmark(OperationsPerInvoke = 16)]
    public float[] TorchSharpFloat32Batch16() => Torch(sixteen, 16);

    private float[] Torch(float[] input, int batch)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return torchNetwork.call(torch.tensor(input, [batch, 3, 160, 160])).data<float>().ToArray();
    }
}

/// <summary>
/// The whole pipeline, as an app calls it: a test crop (one face) with the default options (flip averaging) and in one
/// landmark pass, and a 1280x720 scene (four faces) with the defaults.
/// </summary>
[MemoryDiagnoser]
public class EndToEndBenchmarks
{
    private FacePipeline pipeline = null!;
    private FacePipeline onePassPipeline = null!;
    private RgbImage crop = null!;
    private RgbImage scene = null!;

    [Params(false, true)]
    public bool Expression { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        pipeline = new FacePipeline(new FacePipelineOptions { Expression = Expression, Threads = 1 });
        onePassPipeline = new FacePipeline(new FacePipelineOptions { Expression = Expression, Threads = 1, FlipAverage = false });
        crop = Inputs.Crops(1)[0];
        scene = Inputs.Scene();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        pipeline.Dispose();
        onePassPipeline.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int Crop() => pipeline.Process(crop).Count;

    [Benchmark]
    public int CropOnePass() => onePassPipeline.Process(crop).Count;

    [Benchmark]
    public int Scene1280x720() => pipeline.Process(scene).Count;
}
