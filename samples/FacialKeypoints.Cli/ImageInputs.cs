namespace FacialKeypoints.Cli;

/// <summary>An image to process: the name written in outputs and its path.</summary>
internal sealed record ImageInput(string Name, string Path);

/// <summary>Resolves the <c>predict</c> arguments (files, folders, <c>--list</c>) into images.</summary>
internal static class ImageInputs
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"];

    /// <summary>
    /// Files are taken as given (named by their file name); folders contribute their image files (named relative to
    /// the folder). With a list, only the listed names are kept, in list order, and a listed name that no
    /// folder holds is reported as missing.
    /// </summary>
    public static (List<ImageInput> Images, List<string> Missing) Resolve(IReadOnlyList<string> paths, string? listFile)
    {
        var found = new List<ImageInput>();
        var folders = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                folders.Add(path);
                found.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(f => Extensions.Contains(System.IO.Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Select(f => new ImageInput(System.IO.Path.GetRelativePath(path, f).Replace('\\', '/'), f))
                    .OrderBy(i => i.Name, StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                found.Add(new ImageInput(System.IO.Path.GetFileName(path), path));
            }
            else
            {
                throw new FileNotFoundException($"'{path}' is neither a file nor a folder.", path);
            }
        }

        if (listFile is null)
        {
            return (found, []);
        }

        var byName = found.GroupBy(i => i.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var images = new List<ImageInput>();
        var missing = new List<string>();
        foreach (string name in ReadList(listFile))
        {
            if (byName.TryGetValue(name, out var image))
            {
                images.Add(image);
            }
            else
            {
                string? inFolder = folders.Select(f => System.IO.Path.Combine(f, name)).FirstOrDefault(File.Exists);
                if (inFolder is not null)
                {
                    images.Add(new ImageInput(name, inFolder));
                }
                else
                {
                    missing.Add(name);
                }
            }
        }

        return (images, missing);
    }

    /// <summary>Names in the first column of a CSV; a header row (first cell empty, or "name"/"file"/"image") is skipped.</summary>
    public static IEnumerable<string> ReadList(string listFile)
    {
        if (!File.Exists(listFile))
        {
            throw new FileNotFoundException($"List file '{listFile}' does not exist.", listFile);
        }

        bool first = true;
        foreach (string line in File.ReadLines(listFile))
        {
            string cell = line.Split(',')[0].Trim().Trim('"');
            bool header = first && (cell.Length == 0 || cell.Equals("name", StringComparison.OrdinalIgnoreCase)
                || cell.Equals("file", StringComparison.OrdinalIgnoreCase) || cell.Equals("image", StringComparison.OrdinalIgnoreCase));
            first = false;
            if (!header && cell.Length > 0)
            {
                yield return cell;
            }
        }
    }
}
