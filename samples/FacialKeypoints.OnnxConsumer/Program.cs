using System.Diagnostics;
using FacialKeypoints.Core;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Inference;
using FacialKeypoints.Inference.Drawing;
using Microsoft.Extensions.DependencyInjection;

// A consumer of FacialKeypoints.Inference: every face of a photo with its landmarks and expression, on ONNX Runtime.
var clock = Stopwatch.StartNew();
string? outFile = null;
var inputs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length)
    {
        outFile = args[++i];
    }
    else
    {
        inputs.Add(args[i]);
    }
}

if (inputs.Count != 1)
{
    Console.Error.WriteLine("usage: FacialKeypoints.OnnxConsumer <photo> [--out FILE.png]");
    return 2;
}

using var services = new ServiceCollection().AddFacialKeypointsInference().BuildServiceProvider();
var pipeline = services.GetRequiredService<FacePipeline>();

var image = ImageDecoder.Decode(inputs[0]);
var faces = pipeline.Process(image);
Console.WriteLine($"image: {image.Width}x{image.Height}, faces: {faces.Count}");
foreach (var face in faces)
{
    Console.WriteLine($"face {face.Index}: {face.Landmarks.Length / 2} landmarks, expression: {face.Expression?.Label.ToName() ?? "none"}");
}

Console.Error.WriteLine($"first landmarks after {clock.Elapsed.TotalMilliseconds:0} ms (start-up, models, decoding and inference)");
if (outFile is not null)
{
    KeypointOverlay.SavePng(FaceOverlay.Draw(image, faces, pipeline.Scheme), outFile);
    Console.WriteLine($"wrote {outFile}");
}

return 0;
