using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Tests;
using TorchSharp;

namespace FacialKeypoints.Data.Tests.Runtime;

public sealed class TorchRuntimeTests
{
    /// <summary>The unpatched library as NuGet ships it.</summary>
    private static string OriginalLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        File.Exists(path).Should().BeTrue($"the TorchSharp package should be restored at {path}");
        return path;
    }

    [Fact]
    public void EnsureInitialized_ThenTorchWorks()
    {
        var report = TorchRuntime.Prepare();
        report.Should().NotBeNull();
        using var ones = torch.ones(2, 2);
        ones.sum().item<float>().Should().Be(4f);
        TorchRuntime.Prepare().Should().BeSameAs(report, "the preparation runs once per process");
    }

    [Fact]
    public void EnsureInitialized_OnOldLibStdCxx_LeavesAWeakRequirementBesideTheApp()
    {
        var report = TorchRuntime.Prepare();
        if (report.Action == TorchRuntimeAction.NotNeeded)
        {
            report.SystemLibStdCxx.Should().NotBeNull();
            return;
        }

        report.Action.Should().BeOneOf(TorchRuntimeAction.Patched, TorchRuntimeAction.AlreadyPatched);
        string beside = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        ElfVersionNeeds.Read(File.ReadAllBytes(beside)).Should().Contain(r => r.Version == TorchRuntime.MissingVersion && r.IsWeak);
    }

    [Fact]
    public void OriginalLibrary_RequiresGlibcxx3432Strongly()
    {
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(OriginalLibrary()));
        needs.Should().ContainSingle(r => r.Version == TorchRuntime.MissingVersion).Which.IsWeak.Should().BeFalse();
        needs.Should().Contain(r => r.File == "libstdc++.so.6");
    }

    [Fact]
    public void PatchFile_FreshCopy_ChangesOneByteAndIsIdempotent()
    {
        string dir = TestEnvironment.NewTempDirectory();
        try
        {
            string copy = Path.Combine(dir, "libLibTorchSharp.so");
            File.Copy(OriginalLibrary(), copy);
            var before = File.ReadAllBytes(copy);

            TorchRuntime.PatchFile(copy).Should().BeTrue();
            var after = File.ReadAllBytes(copy);
            after.Length.Should().Be(before.Length);
            Enumerable.Range(0, before.Length).Count(i => before[i] != after[i]).Should().Be(1);
            ElfVersionNeeds.Read(after).Should().ContainSingle(r => r.Version == TorchRuntime.MissingVersion).Which.IsWeak.Should().BeTrue();
            ElfVersionNeeds.Read(after).Where(r => r.Version != TorchRuntime.MissingVersion).Should().OnlyContain(r => !r.IsWeak);

            TorchRuntime.PatchFile(copy).Should().BeFalse("a patched file needs nothing more");

            // A rebuild copies the original back: the next start patches it again.
            File.Copy(OriginalLibrary(), copy, overwrite: true);
            TorchRuntime.PatchFile(copy).Should().BeTrue();
            Directory.GetFiles(dir).Should().ContainSingle("no temporary file is left behind");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void PatchFile_NotElf_NamesFileInError()
    {
        string dir = TestEnvironment.NewTempDirectory();
        try
        {
            string bogus = Path.Combine(dir, "libLibTorchSharp.so");
            File.WriteAllText(bogus, "not a library");
            FluentActions.Invoking(() => TorchRuntime.PatchFile(bogus)).Should().Throw<TorchRuntimeException>()
                .WithMessage($"Cannot read '{bogus}'*Not an ELF file*");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ContainsVersionString_FindsOnlyWholeNames()
    {
        byte[] text = "\0GLIBCXX_3.4.30\0GLIBCXX_3.4.3\0"u8.ToArray();
        ElfVersionNeeds.ContainsVersionString(text, "GLIBCXX_3.4.30").Should().BeTrue();
        ElfVersionNeeds.ContainsVersionString(text, "GLIBCXX_3.4.32").Should().BeFalse();
    }

    [Fact]
    public void EnsureInitialized_DefaultsOpenMpToPassive()
    {
        var report = TorchRuntime.Prepare();
        if (report.OmpWaitPolicyDefaulted)
        {
            Environment.GetEnvironmentVariable("OMP_WAIT_POLICY").Should().Be("PASSIVE");
        }
    }
}
