using System.Globalization;
using System.Text;
using FacialKeypoints.Data;
using FacialKeypoints.Core.Drawing;
using FacialKeypoints.Models.Inference;

namespace FacialKeypoints.Cli;

/// <summary><c>predict</c>: landmarks (and expression) for images, one CSV row each.</summary>
internal static class PredictCommand
{
    private const int Chunk = 16;

    public static int Run(Arguments args)
    {
        string? list = args.Option("--list");
        string? outFile = args.Option("--out");
        string? modelPath = args.Option("--model");
        string? annotate = args.Option("--annotate");
        string expressionMode = args.Option("--expression") ?? "combined";
        bool probabilities = args.Flag("--probabilities");
        bool noFlip = args.Flag("--no-flip");
        args.RejectUnknown();
        if (args.Positional.Count == 0)
        {
            throw new ArgumentException("predict needs image files or folders.");
        }

        var (images, missing) = ImageInputs.Resolve(args.Positional, list);
        int failures = 0;
        foreach (string name in missing)
        {
            Console.Error.WriteLine($"fkp: '{name}' (from {list}) was not found in the given folders");
            failures++;
        }

        using var predictor = KeypointPredictor.Load(new PredictorOptions { ModelPath = modelPath, FlipAverage = !noFlip });
        using var expressions = Expressions.Create(expressionMode);
        var scheme = LandmarkScheme.FromName(predictor.Metadata.SchemeName ?? "ibug68");
        using var output = outFile is null ? Console.Out : new StreamWriter(outFile, false, new UTF8Encoding(false));
        var header = new StringBuilder("name");
        for (int i = 0; i < scheme.Count; i++)
        {
            header.Append(CultureInfo.InvariantCulture, $",x{i},y{i}");
        }

        header.Append(",expression");
        if (probabilities)
        {
            header.Append(string.Concat(Expressions.Classes.Select(c => $",p_{c}")));
        }

        output.WriteLine(header);
        foreach (var chunk in images.Chunk(Chunk))
        {
            var decoded = new (ImageInput Input, RgbImage? Image)[chunk.Length];
            Parallel.For(0, chunk.Length, i =>
            {
                try
                {
                    decoded[i] = (chunk[i], ImageDecoder.Decode(chunk[i].Path));
                }
                catch (ImageDecodeException e)
                {
                    decoded[i] = (chunk[i], null);
                    lock (Console.Error)
                    {
                        Console.Error.WriteLine($"fkp: {chunk[i].Name}: {e.Message}");
                    }
                }
            });

            var good = decoded.Where(d => d.Image is not null).ToArray();
            failures += decoded.Length - good.Length;
            RgbImage[] goodImages = [.. good.Select(d => d.Image!)];
            var predictions = predictor.Predict(goodImages);
            var labels = expressions.Classify(goodImages, predictions);
            for (int i = 0; i < good.Length; i++)
            {
                var (input, image) = good[i];
                var prediction = predictions[i];
                var expression = labels[i];
                var row = new StringBuilder(Csv(input.Name));
                foreach (float v in prediction.Keypoints)
                {
                    row.Append(',').Append(v.ToString("0.##", CultureInfo.InvariantCulture));
                }

                row.Append(',').Append(expression.Label);
                if (probabilities)
                {
                    row.Append(string.Concat(expression.Probabilities.Select(p => "," + p.ToString("0.####", CultureInfo.InvariantCulture))));
                }

                output.WriteLine(row);
                if (annotate is not null)
                {
                    var drawn = KeypointOverlay.Draw(image!, [new KeypointLayer(prediction.Keypoints, OverlayColor.Prediction)], scheme, Math.Max(1f, 256f / Math.Max(image!.Width, image.Height)));
                    KeypointOverlay.SavePng(drawn, Path.Combine(annotate, Path.ChangeExtension(input.Name, ".png")));
                }
            }
        }

        if (failures > 0)
        {
            Console.Error.WriteLine($"fkp: {failures} image(s) failed; the others were written");
            return 1;
        }

        return 0;
    }

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
