using System.Globalization;
using FacialKeypoints.Core;
using FacialKeypoints.Emotion;
using FacialKeypoints.Models.Inference;
using FacialKeypoints.Models.Pretrained;
using Microsoft.Extensions.DependencyInjection;

// A consumer of the FacialKeypoints packages: landmarks and expression of one face image, through DI.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: FacialKeypoints.Consumer <face image>");
    return 2;
}

using var services = new ServiceCollection()
    .AddFacialKeypointsModels()
    .AddFacialKeypointsEmotion()
    .BuildServiceProvider();
var predictor = services.GetRequiredService<KeypointPredictor>();
var expressions = services.GetRequiredService<IExpressionClassifier>();

var image = ImageDecoder.Decode(args[0]);
var face = predictor.Predict(image);
var expression = expressions.Classify(new ExpressionInput(face.Keypoints, image));

Console.WriteLine($"model: {PretrainedModel.Path}");
Console.WriteLine($"image: {image.Width}x{image.Height}, {face.Keypoints.Length / 2} landmarks");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nose tip (30): ({face.Keypoints[60]:F1}, {face.Keypoints[61]:F1}); eyes (36, 45): ({face.Keypoints[72]:F1}, {face.Keypoints[73]:F1}), ({face.Keypoints[90]:F1}, {face.Keypoints[91]:F1})"));
Console.WriteLine($"expression: {expression.Label.ToName()}");
return 0;
