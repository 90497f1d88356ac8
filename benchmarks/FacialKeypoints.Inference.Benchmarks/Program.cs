using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/FacialKeypoints.Inference.Benchmarks -- --filter '*' [--job short]
BenchmarkSwitcher.FromAssembly(typeof(FacialKeypoints.Inference.Benchmarks.Inputs).Assembly).Run(args);
