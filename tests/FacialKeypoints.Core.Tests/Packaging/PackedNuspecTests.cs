using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace FacialKeypoints.Core.Tests.Packaging;

/// <summary>
/// The packed library packages, as a user restores them: each nuspec lists exactly the project's own package and
/// project references (no pinned transitive package promoted to a dependency), and no native package (SkiaSharp's
/// Linux assets, libtorch, ONNX Runtime's native build), which the application chooses. Reads the packages in
/// <c>$FKP_PACKAGES</c> when set (CI's artifacts/packages), else packs src/ itself (a few minutes).
/// </summary>
public sealed partial class PackedNuspecTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, string[]>> Packed = new(ReadPackedDependencies);

    public static TheoryData<string> Libraries => [.. LibraryProjects().Select(Path.GetFileNameWithoutExtension).OfType<string>()];

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Nuspec_ListsExactlyTheProjectsDirectReferences(string library)
    {
        var project = XDocument.Load(LibraryProjects().Single(p => Path.GetFileNameWithoutExtension(p) == library));
        var expected = project.Descendants("PackageReference")
            .Where(r => (string?)r.Attribute("PrivateAssets") != "all")
            .Select(r => (string)r.Attribute("Include")!)
            .Concat(project.Descendants("ProjectReference").Select(r => Path.GetFileNameWithoutExtension((string)r.Attribute("Include")!)));

        Packed.Value.Should().ContainKey(library);
        Packed.Value[library].Should().BeEquivalentTo(expected, $"{library}'s nuspec should name its own references only");
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void Nuspec_NamesNoNativePackage(string library) =>
        Packed.Value[library].Where(id => NativePackage().IsMatch(id)).Should().BeEmpty("the application picks native assets");

    [GeneratedRegex(@"NativeAssets|^libtorch|^TorchSharp-c(pu|uda)|^Microsoft\.ML\.OnnxRuntime(\.Gpu.*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex NativePackage();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FacialKeypoints.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("FacialKeypoints.sln was not found above the test's folder.");
    }

    private static string[] LibraryProjects() =>
        [.. Directory.GetDirectories(Path.Combine(RepositoryRoot(), "src"))
            .Select(d => Path.Combine(d, Path.GetFileName(d) + ".csproj"))
            .Where(File.Exists)
            .Order(StringComparer.Ordinal)];

    /// <summary>Package id to dependency ids, from every FacialKeypoints library package.</summary>
    private static IReadOnlyDictionary<string, string[]> ReadPackedDependencies()
    {
        string? folder = Environment.GetEnvironmentVariable("FKP_PACKAGES");
        string? packed = null;
        if (string.IsNullOrEmpty(folder))
        {
            packed = folder = TestEnvironment.NewTempDirectory();
            Pack(folder);
        }

        try
        {
            var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (string package in Directory.GetFiles(folder, "FacialKeypoints.*.nupkg"))
            {
                using var zip = ZipFile.OpenRead(package);
                var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
                using var stream = entry.Open();
                var nuspec = XDocument.Load(stream);
                var ns = nuspec.Root!.Name.Namespace;
                string id = (string)nuspec.Descendants(ns + "id").Single();
                result[id] = [.. nuspec.Descendants(ns + "dependency").Select(d => (string)d.Attribute("id")!).Distinct()];
            }

            return result;
        }
        finally
        {
            if (packed is not null)
            {
                Directory.Delete(packed, true);
            }
        }
    }

    /// <summary>Packs every library project in one build, through a throw-away solution file.</summary>
    private static void Pack(string output)
    {
        string solution = Path.Combine(output, "libraries.slnx");
        File.WriteAllText(solution, new XElement("Solution", LibraryProjects().Select(p =>
            new XElement("Project", new XAttribute("Path", Path.GetRelativePath(output, p))))).ToString());
        var start = new ProcessStartInfo("dotnet", ["pack", solution, "-c", "Release", "-o", output, "-p:IncludeSymbols=false"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        string log = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed ({process.ExitCode}):\n{log}\n{errors.Result}");
        }
    }
}
