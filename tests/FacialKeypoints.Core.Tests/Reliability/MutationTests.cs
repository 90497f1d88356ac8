using System.Diagnostics;
using System.Globalization;
using System.Text;
using SkiaSharp;
using Xunit.Abstractions;

namespace FacialKeypoints.Core.Tests.Reliability;

/// <summary>
/// Seeded, bounded fuzzing (docs/reliability.md): thousands of mutants of valid PNG, JPEG and CSV files; only the
/// documented exceptions may escape (a native crash would end the test process, so it fails too).
/// </summary>
public sealed class MutationTests(ITestOutputHelper output)
{
    public const int CasesPerFormat = 1500;

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    public void Decode_MutatedImages_DecodeOrThrowImageDecodeException(SKEncodedImageFormat format)
    {
        byte[] valid = BadFiles.Encode(format, 48, 40);
        int decoded = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (index, edits, bytes) in Mutations.Of(valid, CasesPerFormat, seed: 13 + (int)format))
        {
            try
            {
                var image = ImageDecoder.Decode(bytes, "mutant");
                image.Pixels.Length.Should().Be(image.Width * image.Height * 3);
                decoded++;
            }
            catch (ImageDecodeException e) when (e.FilePath == "mutant")
            {
                refused++;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{format} mutant {index} ({edits}) threw {e.GetType().Name}: {e.Message}");
            }
        }

        output.WriteLine($"{format}: {CasesPerFormat} mutants of {valid.Length} bytes, {decoded} decoded, {refused} refused, {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void Read_MutatedCsv_ReadsOrThrowsKeypointCsvException()
    {
        var text = new StringBuilder("," + string.Join(",", Enumerable.Range(0, 136)) + "\n");
        for (int row = 0; row < 4; row++)
        {
            text.Append(CultureInfo.InvariantCulture, $"face_{row}.jpg,").AppendJoin(",", Enumerable.Range(0, 136).Select(i => (i * 1.25 + row).ToString(CultureInfo.InvariantCulture))).Append('\n');
        }

        byte[] valid = Encoding.UTF8.GetBytes(text.ToString());
        int read = 0, refused = 0, skippedRows = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (index, edits, bytes) in Mutations.Of(valid, CasesPerFormat, seed: 1313))
        {
            foreach (var policy in new[] { BadRowPolicy.FailFast, BadRowPolicy.SkipAndReport })
            {
                try
                {
                    using var reader = new StreamReader(new MemoryStream(bytes));
                    var result = KeypointCsvReader.Read(reader, "mutant.csv", LandmarkScheme.Ibug68, policy);
                    result.Records.All(r => r.Keypoints.Length == 136 && r.Keypoints.All(float.IsFinite)).Should().BeTrue();
                    (result.Records.Count + result.Problems.Count).Should().BeLessThanOrEqualTo(8);
                    skippedRows += result.Problems.Count;
                    read++;
                }
                catch (KeypointCsvException e) when (e.Problem?.File == "mutant.csv")
                {
                    refused++;
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"CSV mutant {index} ({edits}, {policy}) threw {e.GetType().Name}: {e.Message}");
                }
            }
        }

        output.WriteLine($"CSV: {CasesPerFormat} mutants x 2 policies, {read} read ({skippedRows} rows skipped), {refused} refused, {clock.Elapsed.TotalSeconds:F1} s");
    }
}
