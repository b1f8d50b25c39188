namespace CtBuild.Publishing;

/// <summary>
/// Bundles in a folder (a disk, or a network share with POSIX rename): each bundle is built in a hidden
/// folder beside its final place and renamed into it, so a reader sees a whole bundle or none, and of two
/// publishers racing the second rename fails and that one reports the winner's bundle.
/// </summary>
public sealed class FolderBundleStore(string root) : IBundleStore
{
    public PublishedBundle? Published(string model, string id)
    {
        var target = Path.Combine(root, model, id);
        return Directory.Exists(target) ? Existing(target, id) : null;
    }

    public string NewBuildFolder(string model, string id, string scratchDir)
    {
        // Beside the target, so the final rename stays on one file system; hidden: importers skip dot-folders.
        var temp = Path.Combine(root, model, $".{id}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(temp);
        return temp;
    }

    public PublishedBundle Commit(string model, string id, string built, BundleManifest manifest, bool signed)
    {
        var target = Path.Combine(root, model, id);
        try { Directory.Move(built, target); }
        catch (IOException) when (Directory.Exists(target)) { return Existing(target, id); } // another publisher won the race
        return new PublishedBundle(target, id, manifest, signed, false);
    }

    /// <summary>The root itself when it holds a manifest, else the newest published bundle of <paramref name="model"/> under it.</summary>
    public FetchedBundle Fetch(string model, string scratchDir)
    {
        if (File.Exists(Path.Combine(root, BundleManifest.FileName))) return new FetchedBundle(root, root);
        var modelDir = Path.Combine(root, model);
        if (!Directory.Exists(root)) throw new BundleException($"{root} does not exist. Give the shared folder or a bundle folder with --from.");
        var bundles = Directory.Exists(modelDir)
            ? Directory.EnumerateDirectories(modelDir).Where(d => !Path.GetFileName(d).StartsWith('.') && File.Exists(Path.Combine(d, BundleManifest.FileName))).ToList()
            : [];
        if (bundles.Count == 0)
            throw new BundleException($"No bundle of '{model}' under {root} (looked in {modelDir}). Publish one with `ctb publish {model} --to {root}`.");
        var newest = bundles.MaxBy(Created)!;
        return new FetchedBundle(newest, newest);
    }

    static DateTimeOffset Created(string bundle)
    {
        var path = Path.Combine(bundle, BundleManifest.FileName);
        return BundleManifest.Parse(File.ReadAllBytes(path), path).Created;
    }

    static PublishedBundle Existing(string folder, string id)
    {
        var path = Path.Combine(folder, BundleManifest.FileName);
        return new PublishedBundle(folder, id, BundleManifest.Parse(File.ReadAllBytes(path), path),
            File.Exists(Path.Combine(folder, BundleManifest.SignatureFileName)), true);
    }
}
