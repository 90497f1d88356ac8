using System.Runtime.CompilerServices;
using FacialKeypoints.Data.Runtime;

namespace FacialKeypoints.Tests;

/// <summary>Linked into the test projects that use TorchSharp: makes libtorch loadable before any test runs.</summary>
internal static class TorchTestSetup
{
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "Tests may call torch before any library type.")]
    internal static void Initialize() => TorchRuntime.EnsureInitialized();
}
