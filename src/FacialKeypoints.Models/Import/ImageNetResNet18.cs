using FacialKeypoints.Data.Transforms;
using FacialKeypoints.Data.Runtime;
using FacialKeypoints.Models.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace FacialKeypoints.Models.Import;

/// <summary>
/// ImageNet initialisation for <see cref="ResNet18Backbone"/>, offline, from the ResNet-18 that the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> ships as ONNX (a CNTK export, opset 8, layout [2, 2, 2, 3],
/// batch norm not folded). This library does not bring the file (inference never reads it): reference
/// <c>FacialKeypoints.Training</c> (or <see cref="PackageId"/> itself), which copies it to the application's output
/// folder as <see cref="RelativeOnnxPath"/>, or pass its path (<c>onnxPath</c>, <see cref="PathVariable"/>).
/// </summary>
/// <remarks>
/// The original network reads BGR pixels in 0-255 minus a mean image. The importer reverses the input channels
/// of the first convolution, so the backbone reads RGB normalised with <see cref="Normalization"/>.
/// </remarks>
public static class ImageNetResNet18
{
    /// <summary>Where the ONNX file lies relative to an application's base directory (and inside the package's <c>tools/</c>).</summary>
    public const string RelativeOnnxPath = "DnnImageModels/ResNet18Onnx/ResNet18.onnx";

    /// <summary>The NuGet package that ships the file.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The package version whose file the importer was checked against.</summary>
    public const string PackageVersion = "0.23.1";

    /// <summary>Environment variable that names the ONNX file explicitly; it takes precedence when set.</summary>
    public const string PathVariable = "FKP_RESNET18_ONNX";

    /// <summary>
    /// The layout to import into: the file's own [2, 2, 2, 3]. Leaving out <c>layer4.2</c> saves about 17% of the
    /// forward time but moves the pooled features of faces by about 59% (relative L2), more than half the distance
    /// between different faces (docs/models-import.md).
    /// </summary>
    public const ResNet18Layout RecommendedLayout = ResNet18Layout.ExtraFinalBlock;

    private const float BatchNormEpsilon = 1e-5f;

    /// <summary>The input normalisation the imported weights expect (RGB, [0, 1] pixels).</summary>
    public static NormalizationSpec Normalization => NormalizationSpec.ImportedResNet18;

    /// <summary>The places <see cref="FindOnnxFile"/> looks, in order.</summary>
    /// <returns>Candidate paths; they need not exist.</returns>
    public static IReadOnlyList<string> CandidatePaths()
    {
        var candidates = new List<string>();
        string? explicitPath = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(explicitPath))
        {
            candidates.Add(explicitPath);
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, RelativeOnnxPath));
        string inPackage = Path.Combine(
            PackageId.ToLowerInvariant(), PackageVersion, "tools", RelativeOnnxPath);
        string? nugetPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(nugetPackages))
        {
            candidates.Add(Path.Combine(nugetPackages, inPackage));
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            candidates.Add(Path.Combine(home, ".nuget", "packages", inPackage));
        }

        return candidates.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Finds ResNet18.onnx: <c>$FKP_RESNET18_ONNX</c>, then beside the application
    /// (<see cref="RelativeOnnxPath"/> under <see cref="AppContext.BaseDirectory"/>), then the NuGet package cache
    /// (<c>$NUGET_PACKAGES</c>, then <c>~/.nuget/packages</c>).
    /// </summary>
    /// <returns>The first existing file, or null.</returns>
    public static string? FindOnnxFile() => CandidatePaths().FirstOrDefault(File.Exists);

    /// <summary>As <see cref="FindOnnxFile"/>, but a missing file is an error that says where it looked and how to fix it.</summary>
    /// <returns>The path of ResNet18.onnx.</returns>
    /// <exception cref="FileNotFoundException">No candidate path exists.</exception>
    public static string FindOnnxFileOrThrow() => FindOnnxFile() ?? throw new FileNotFoundException(
        $"ResNet18.onnx (ImageNet ResNet-18) was not found. Looked in: {string.Join("; ", CandidatePaths())}. " + HowToGetFile);

    /// <summary>What to do when the file is missing, for error messages.</summary>
    internal static string HowToGetFile =>
        $"Reference the FacialKeypoints.Training package (it brings {PackageId} {PackageVersion} and copies the file " +
        $"to {RelativeOnnxPath} in your output) or {PackageId} itself, or give the file's path (the onnxPath " +
        $"argument, LearnedExpressionOptions.OnnxPath, or the {PathVariable} environment variable).";

    /// <summary>Creates a backbone initialised with the ImageNet weights.</summary>
    /// <param name="layout">The backbone's layout; <see cref="ResNet18Layout.Standard"/> leaves out the file's <c>layer4.2</c>.</param>
    /// <param name="onnxPath">The ONNX file; found with <see cref="FindOnnxFile"/> when null.</param>
    /// <returns>The initialised backbone, owned by the caller.</returns>
    /// <exception cref="FileNotFoundException">No file was given or found.</exception>
    /// <exception cref="ModelFormatException">The file is not the expected ResNet-18.</exception>
    public static ResNet18Backbone CreateBackbone(ResNet18Layout layout, string? onnxPath = null)
    {
        TorchRuntime.EnsureInitialized();
        onnxPath ??= FindOnnxFileOrThrow();
        var backbone = new ResNet18Backbone(layout);
        try
        {
            LoadInto(backbone, onnxPath);
            return backbone;
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>Creates a keypoint network whose backbone starts from the ImageNet weights and whose head is new.</summary>
    /// <param name="keypointCount">Number of keypoints (the landmark scheme's point count).</param>
    /// <param name="layout">The backbone's layout; <see cref="RecommendedLayout"/> keeps every imported block.</param>
    /// <param name="headOptions">The reference head's hidden width and dropout; defaults when null.</param>
    /// <param name="onnxPath">The ONNX file; found with <see cref="FindOnnxFile"/> when null.</param>
    /// <returns>The network, owned by the caller; feed it images normalised with <see cref="Normalization"/>.</returns>
    /// <exception cref="FileNotFoundException">No file was given or found.</exception>
    /// <exception cref="ModelFormatException">The file is not the expected ResNet-18.</exception>
    public static KeypointNetwork CreateNetwork(
        int keypointCount,
        ResNet18Layout layout = RecommendedLayout,
        Heads.ReferenceHeadOptions? headOptions = null,
        string? onnxPath = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keypointCount);
        var backbone = CreateBackbone(layout, onnxPath);
        try
        {
            return new KeypointNetwork(backbone, new Heads.ReferenceHead(backbone.OutFeatures, keypointCount, headOptions));
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies the ONNX initialisers into a backbone's parameters and batch-norm buffers, matching them through
    /// the graph's structure, and flips the first convolution from BGR to RGB input order. A backbone with
    /// fewer blocks in a stage than the file takes the leading blocks; the rest are reported as skipped.
    /// </summary>
    /// <param name="backbone">The backbone to fill; its device is kept.</param>
    /// <param name="onnxPath">The ONNX file.</param>
    /// <returns>What was loaded and skipped.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is not an ONNX ResNet-18 that fits the backbone.</exception>
    public static ImageNetImportReport LoadInto(ResNet18Backbone backbone, string onnxPath)
    {
        TorchRuntime.EnsureInitialized();
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        if (!File.Exists(onnxPath))
        {
            throw new FileNotFoundException($"The ONNX file '{onnxPath}' does not exist. {HowToGetFile}", onnxPath);
        }

        OnnxModel model;
        List<(string Target, OnnxTensor Source, bool FlipInputChannels)> assignments;
        List<string> skipped;
        ResNet18Layout fileLayout;
        try
        {
            model = OnnxModel.Parse(File.ReadAllBytes(onnxPath));
            var graph = ResNetGraph.Read(model);
            fileLayout = graph.Layout;
            (assignments, skipped) = Plan(graph, backbone.Layout);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException(onnxPath, $"not an ImageNet ResNet-18 in ONNX form: {e.Message}", e);
        }

        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in backbone.named_parameters())
        {
            targets[name] = parameter;
        }

        foreach (var (name, buffer) in backbone.named_buffers())
        {
            targets[name] = buffer;
        }

        var loaded = new List<string>();
        using (no_grad())
        {
            foreach (var (target, source, flip) in assignments)
            {
                if (!targets.TryGetValue(target, out var destination))
                {
                    throw new ModelFormatException(onnxPath, $"the backbone has no '{target}' to receive initialiser '{source.Name}'.");
                }

                if (!destination.shape.SequenceEqual(source.Dims))
                {
                    throw new ModelFormatException(
                        onnxPath,
                        $"initialiser '{source.Name}' has shape [{string.Join(", ", source.Dims)}] but '{target}' needs [{string.Join(", ", destination.shape)}].");
                }

                float[] values;
                try
                {
                    values = source.ToFloatArray();
                }
                catch (InvalidDataException e)
                {
                    throw new ModelFormatException(onnxPath, e.Message, e);
                }

                using var host = tensor(values, source.Dims);
                using var ordered = flip ? host.flip(1) : host.alias();
                destination.copy_(ordered);
                loaded.Add(target);
            }
        }

        return new ImageNetImportReport(Path.GetFullPath(onnxPath), fileLayout, loaded, skipped);
    }

    private static (List<(string, OnnxTensor, bool)> Assignments, List<string> Skipped) Plan(ResNetGraph graph, ResNet18Layout layout)
    {
        var wanted = layout.GetBlocksPerStage();
        var have = graph.Layout.GetBlocksPerStage();
        for (int s = 0; s < 4; s++)
        {
            if (have[s] < wanted[s])
            {
                throw new InvalidDataException(
                    $"its layout is {graph.Layout.ToBlocksText()} but the backbone needs {layout.ToBlocksText()}.");
            }
        }

        var assignments = new List<(string, OnnxTensor, bool)>();
        AddConvBn(assignments, "conv1", "bn1", graph.Stem, flipInputChannels: true);
        var skipped = new List<string>();
        foreach (var block in graph.Blocks)
        {
            string prefix = $"layer{block.Stage}.{block.Index}";
            if (block.Index >= wanted[block.Stage - 1])
            {
                skipped.Add(prefix);
                continue;
            }

            AddConvBn(assignments, $"{prefix}.conv1", $"{prefix}.bn1", block.First, flipInputChannels: false);
            AddConvBn(assignments, $"{prefix}.conv2", $"{prefix}.bn2", block.Second, flipInputChannels: false);
            if (block.Downsample is { } shortcut)
            {
                AddConvBn(assignments, $"{prefix}.downsample.0", $"{prefix}.downsample.1", shortcut, flipInputChannels: false);
            }
        }

        return (assignments, skipped);
    }

    private static void AddConvBn(List<(string, OnnxTensor, bool)> assignments, string conv, string bn, ConvBn source, bool flipInputChannels)
    {
        assignments.Add(($"{conv}.weight", source.Weight, flipInputChannels));
        assignments.Add(($"{bn}.weight", source.Scale, false));
        assignments.Add(($"{bn}.bias", source.Bias, false));
        assignments.Add(($"{bn}.running_mean", source.Mean, false));
        assignments.Add(($"{bn}.running_var", source.Variance, false));
    }

    /// <summary>A convolution without bias followed by batch norm, as initialisers.</summary>
    private sealed record ConvBn(OnnxNode Conv, OnnxTensor Weight, OnnxTensor Scale, OnnxTensor Bias, OnnxTensor Mean, OnnxTensor Variance);

    /// <summary>One residual block found in the graph.</summary>
    private sealed record Block(int Stage, int Index, ConvBn First, ConvBn Second, ConvBn? Downsample);

    /// <summary>The ResNet structure recovered from an ONNX graph: the stem and the residual blocks in order.</summary>
    private sealed class ResNetGraph
    {
        private readonly OnnxModel model;
        private readonly Dictionary<string, OnnxNode> producers = new(StringComparer.Ordinal);

        private ResNetGraph(OnnxModel model)
        {
            this.model = model;
            foreach (var node in model.Nodes)
            {
                foreach (string output in node.Outputs)
                {
                    producers[output] = node;
                }
            }
        }

        public ConvBn Stem { get; private set; } = null!;

        public List<Block> Blocks { get; } = [];

        public ResNet18Layout Layout { get; private set; }

        public static ResNetGraph Read(OnnxModel model)
        {
            var graph = new ResNetGraph(model);
            graph.Discover();
            return graph;
        }

        private void Discover()
        {
            var imageInputs = model.Inputs.Where(i => !model.Initializers.ContainsKey(i.Name)).ToList();
            if (imageInputs.Count != 1)
            {
                throw new InvalidDataException($"expected one image input, found {imageInputs.Count}.");
            }

            string image = imageInputs[0].Name;
            var stemConv = model.Nodes.FirstOrDefault(n => n.OpType == "Conv" && n.Inputs.Count > 0 && n.Inputs[0] == image)
                ?? throw new InvalidDataException("no convolution reads the image input.");
            var stemBn = model.Nodes.FirstOrDefault(n => n.OpType == "BatchNormalization" && n.Inputs[0] == stemConv.Outputs[0])
                ?? throw new InvalidDataException("the first convolution is not followed by batch normalisation.");
            Stem = ReadConvBn(stemBn.Outputs[0]);

            int stage = 1;
            int index = 0;
            foreach (var add in model.Nodes.Where(n => n.OpType is "Add" or "Sum"))
            {
                if (add.Inputs.Count != 2)
                {
                    throw new InvalidDataException($"residual node '{add.Name}' has {add.Inputs.Count} inputs.");
                }

                var block = TryReadBlock(add.Inputs[0], add.Inputs[1]) ?? TryReadBlock(add.Inputs[1], add.Inputs[0])
                    ?? throw new InvalidDataException($"residual node '{add.Name}' does not join a basic block and its shortcut.");
                if (Blocks.Count > 0 && block.Downsample is not null)
                {
                    stage++;
                    index = 0;
                }

                if (stage > 4)
                {
                    throw new InvalidDataException("the graph has more than four stages.");
                }

                Blocks.Add(block with { Stage = stage, Index = index });
                CheckStride(block.First.Conv, block.Downsample is null || stage == 1 ? 1 : 2);
                index++;
            }

            if (stage != 4)
            {
                throw new InvalidDataException($"expected four residual stages, found {stage}.");
            }

            int[] counts = [.. Enumerable.Range(1, 4).Select(s => Blocks.Count(b => b.Stage == s))];
            Layout = ResNet18LayoutExtensions.ParseBlocksPerStage(string.Join(",", counts));
        }

        private static void CheckStride(OnnxNode conv, int expected)
        {
            if (conv.Attributes.TryGetValue("strides", out var strides) && strides.Ints.Any(s => s != expected))
            {
                throw new InvalidDataException($"convolution '{conv.Name}' has strides [{string.Join(",", strides.Ints)}], expected {expected}.");
            }
        }

        /// <summary>Reads Conv - BN - Relu - Conv - BN ending at <paramref name="main"/>, with <paramref name="shortcut"/> as identity or Conv - BN.</summary>
        private Block? TryReadBlock(string main, string shortcut)
        {
            if (!Produced(main, "BatchNormalization", out var bn2)
                || !Produced(bn2.Inputs[0], "Conv", out var conv2)
                || !Produced(conv2.Inputs[0], "Relu", out var relu)
                || !Produced(relu.Inputs[0], "BatchNormalization", out var bn1)
                || !Produced(bn1.Inputs[0], "Conv", out var conv1))
            {
                return null;
            }

            string blockInput = conv1.Inputs[0];
            ConvBn? downsample = null;
            if (shortcut != blockInput)
            {
                if (!Produced(shortcut, "BatchNormalization", out var shortcutBn)
                    || !Produced(shortcutBn.Inputs[0], "Conv", out var shortcutConv)
                    || shortcutConv.Inputs[0] != blockInput)
                {
                    return null;
                }

                downsample = ReadConvBn(shortcut);
            }

            return new Block(0, 0, ReadConvBn(bn1.Outputs[0]), ReadConvBn(main), downsample);
        }

        private bool Produced(string value, string opType, out OnnxNode node)
        {
            if (producers.TryGetValue(value, out var found) && found.OpType == opType)
            {
                node = found;
                return true;
            }

            node = null!;
            return false;
        }

        private ConvBn ReadConvBn(string bnOutput)
        {
            var bn = producers[bnOutput];
            var conv = producers[bn.Inputs[0]];
            if (conv.Inputs.Count != 2)
            {
                throw new InvalidDataException($"convolution '{conv.Name}' has a bias or no weight; expected a weight only.");
            }

            if (bn.Inputs.Count != 5)
            {
                throw new InvalidDataException($"batch norm '{bn.Name}' has {bn.Inputs.Count} inputs, expected 5.");
            }

            if (bn.Attributes.TryGetValue("epsilon", out var epsilon) && epsilon.Float is float eps
                && Math.Abs(eps - BatchNormEpsilon) > 1e-7f)
            {
                throw new InvalidDataException($"batch norm '{bn.Name}' uses epsilon {eps}, the backbone {BatchNormEpsilon}.");
            }

            return new ConvBn(conv, Init(conv.Inputs[1]), Init(bn.Inputs[1]), Init(bn.Inputs[2]), Init(bn.Inputs[3]), Init(bn.Inputs[4]));
        }

        private OnnxTensor Init(string name) =>
            model.Initializers.TryGetValue(name, out var t)
                ? t
                : throw new InvalidDataException($"'{name}' is not an initialiser (weights computed in the graph are not supported).");
    }
}
