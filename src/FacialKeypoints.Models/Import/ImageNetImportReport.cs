using FacialKeypoints.Models.Backbones;

namespace FacialKeypoints.Models.Import;

/// <summary>What <see cref="ImageNetResNet18.LoadInto"/> did.</summary>
/// <param name="OnnxPath">The file the weights came from.</param>
/// <param name="FileLayout">The blocks-per-stage layout found in the file's graph.</param>
/// <param name="LoadedNames">The backbone parameter and buffer names that received weights.</param>
/// <param name="SkippedBlocks">Blocks of the file that the backbone has no place for (for example <c>layer4.2</c> when loading into the standard layout).</param>
public sealed record ImageNetImportReport(
    string OnnxPath,
    ResNet18Layout FileLayout,
    IReadOnlyList<string> LoadedNames,
    IReadOnlyList<string> SkippedBlocks);
