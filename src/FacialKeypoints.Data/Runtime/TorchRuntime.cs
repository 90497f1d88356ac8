using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FacialKeypoints.Data.Runtime;

/// <summary>
/// Prepares the process for TorchSharp before the first torch call: applies the libstdc++ work-around on
/// Linux distributions older than GCC 13 (Debian 12, Ubuntu 22.04) and chooses a passive OpenMP wait policy.
/// Every FacialKeypoints entry point calls <see cref="EnsureInitialized"/>; an application that calls torch
/// directly before touching this library should call it first.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> asks for the symbol version <c>GLIBCXX_3.4.32</c> (GCC 13) only
/// for <c>std::ios_base_library_init</c>, a marker nothing calls; older systems stop at <c>GLIBCXX_3.4.30</c> and the
/// loader refuses the library, which TorchSharp reports as a missing libtorch package. When the system libstdc++
/// lacks that version, this marks the one requirement weak (one flag in the ELF <c>.gnu.version_r</c> table) in
/// the copies of the library beside the application, by writing a patched copy and renaming it over the
/// original. A rebuild that copies the original back is patched again on the next start.
/// </remarks>
public static partial class TorchRuntime
{
    /// <summary>The symbol version that TorchSharp asks for and older libstdc++ builds lack.</summary>
    internal const string MissingVersion = "GLIBCXX_3.4.32";

    /// <summary>Environment variable that turns the libstdc++ work-around off when set to <c>0</c>.</summary>
    internal const string PatchSwitchVariable = "FKP_PATCH_LIBTORCHSHARP";

    private const string LibraryFile = "libLibTorchSharp.so";
    private static readonly Lock Gate = new();
    private static TorchRuntimeReport? report;

    /// <summary>What the last <see cref="EnsureInitialized"/> found and did, or null before the first call.</summary>
    internal static TorchRuntimeReport? LastReport => report;

    /// <summary>
    /// Runs the preparation once per process, before the first torch call. Safe to call from any thread, any number
    /// of times; the library's entry points call it themselves.
    /// </summary>
    /// <exception cref="TorchRuntimeException">The work-around is needed and could not be applied.</exception>
    public static void EnsureInitialized() => Prepare();

    /// <summary>Runs the preparation once per process and tells what it found and did.</summary>
    /// <exception cref="TorchRuntimeException">The work-around is needed and could not be applied.</exception>
    internal static TorchRuntimeReport Prepare()
    {
        lock (Gate)
        {
            report ??= Initialize();
            return report;
        }
    }

    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The libstdc++ work-around must run before TorchSharp's static constructor, so it runs when this library loads.")]
    internal static void InitializeOnLoad()
    {
        try
        {
            EnsureInitialized();
        }
        catch (TorchRuntimeException)
        {
            // Reported again, with its message, by the first explicit EnsureInitialized call; a module
            // initializer that throws would hide that message behind a TypeInitializationException.
            lock (Gate)
            {
                report = null;
            }
        }
    }

    private static TorchRuntimeReport Initialize()
    {
        bool ompDefaulted = SetDefaultEnvironment("OMP_WAIT_POLICY", "PASSIVE");
        if (!OperatingSystem.IsLinux())
        {
            return new TorchRuntimeReport(TorchRuntimeAction.NotNeeded, [], null, ompDefaulted);
        }

        string? libstdcxx = FindLoadedLibrary("libstdc++.so.6");
        if (libstdcxx is not null && ElfVersionNeeds.ContainsVersionString(File.ReadAllBytes(libstdcxx), MissingVersion))
        {
            return new TorchRuntimeReport(TorchRuntimeAction.NotNeeded, [], libstdcxx, ompDefaulted);
        }

        if (Environment.GetEnvironmentVariable(PatchSwitchVariable) == "0")
        {
            return new TorchRuntimeReport(TorchRuntimeAction.Disabled, [], libstdcxx, ompDefaulted);
        }

        var patched = new List<string>();
        foreach (string candidate in CandidateLibraries())
        {
            if (PatchFile(candidate))
            {
                patched.Add(candidate);
            }
        }

        var action = patched.Count > 0 ? TorchRuntimeAction.Patched : TorchRuntimeAction.AlreadyPatched;
        return new TorchRuntimeReport(action, patched, libstdcxx, ompDefaulted);
    }

    /// <summary>
    /// Marks the <see cref="MissingVersion"/> requirement of one library file weak, atomically. Returns false
    /// when the file needs no change.
    /// </summary>
    /// <exception cref="TorchRuntimeException">The file could not be read, parsed or replaced.</exception>
    internal static bool PatchFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
            if (!ElfVersionNeeds.MarkWeak(bytes, MissingVersion))
            {
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new TorchRuntimeException(
                $"Cannot read '{path}' to apply the libstdc++ work-around: {e.Message}", e);
        }

        string temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temporary, bytes);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
            }

            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new TorchRuntimeException(
                $"TorchSharp's '{path}' needs {MissingVersion} (GCC 13's libstdc++), which this system's libstdc++ " +
                $"lacks, and the file could not be patched: {e.Message}. Make the application folder writable for " +
                "one start, install a libstdc++ from GCC 13 or newer, or set LD_PRELOAD to such a libstdc++.so.6.", e);
        }
    }

    private static IEnumerable<string> CandidateLibraries()
    {
        string baseDirectory = AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(baseDirectory, LibraryFile),
            Path.Combine(baseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", LibraryFile),
            Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", LibraryFile),
            Path.Combine(baseDirectory, "runtimes", "linux-arm64", "native", LibraryFile),

            // TorchSharp's fallback copies the natives from the NuGet cache into cpu/ when the first load fails.
            Path.Combine(baseDirectory, "cpu", LibraryFile),
        ];
        return candidates.Distinct(StringComparer.Ordinal).Where(File.Exists);
    }

    private static string? FindLoadedLibrary(string fileName)
    {
        // The .NET host is C++, so libstdc++ is already mapped; its path is the one the loader will use.
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.EndsWith(fileName, StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }
        catch (IOException)
        {
        }

        string[] known = ["/usr/lib/x86_64-linux-gnu/", "/usr/lib/aarch64-linux-gnu/", "/usr/lib64/", "/usr/lib/"];
        return known.Select(dir => dir + fileName).FirstOrDefault(File.Exists);
    }

    private static bool SetDefaultEnvironment(string name, string value)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
        {
            return false;
        }

        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows())
        {
            // OpenMP reads the native environment when libtorch loads, which .NET's copy does not reach.
            _ = NativeMethods.setenv(name, value, 0);
        }

        return true;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int setenv(string name, string value, int overwrite);
    }
}

/// <summary>What <see cref="TorchRuntime.EnsureInitialized"/> did about the libstdc++ work-around.</summary>
internal enum TorchRuntimeAction
{
    /// <summary>The system libstdc++ provides the version TorchSharp needs, or the OS is not Linux.</summary>
    NotNeeded,

    /// <summary>The work-around was needed and one or more library files were patched now.</summary>
    Patched,

    /// <summary>The work-around was needed and every library file found was patched already.</summary>
    AlreadyPatched,

    /// <summary>The work-around was needed but switched off with <see cref="TorchRuntime.PatchSwitchVariable"/>.</summary>
    Disabled,
}

/// <summary>The outcome of preparing the process for TorchSharp.</summary>
/// <param name="Action">What was done about the libstdc++ work-around.</param>
/// <param name="PatchedFiles">Library files patched by this call.</param>
/// <param name="SystemLibStdCxx">The libstdc++ the process uses, when found.</param>
/// <param name="OmpWaitPolicyDefaulted">Whether <c>OMP_WAIT_POLICY</c> was unset and so set to <c>PASSIVE</c>.</param>
internal sealed record TorchRuntimeReport(
    TorchRuntimeAction Action,
    IReadOnlyList<string> PatchedFiles,
    string? SystemLibStdCxx,
    bool OmpWaitPolicyDefaulted);

/// <summary>Thrown when TorchSharp needs the libstdc++ work-around and it cannot be applied.</summary>
public sealed class TorchRuntimeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TorchRuntimeException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public TorchRuntimeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public TorchRuntimeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
