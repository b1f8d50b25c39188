using System.Text.Json;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Training;

namespace CtBuild.Publishing;

/// <summary>
/// A bundle whose manifest was checked and whose files were copied into a local staging folder, each copy
/// checked against the manifest's size and sha256. Everything after reads the copies, so the bytes checked
/// are the bytes used even if someone changes the shared folder meanwhile.
/// </summary>
/// <param name="Id">The bundle folder's name.</param>
/// <param name="ManifestSha256">sha256 of manifest.json's bytes: the bundle's identity for "already imported".</param>
/// <param name="Source">The publishing registry's record of the version.</param>
/// <param name="StagedDir">The local copies, laid out as in the bundle.</param>
public sealed record VerifiedBundle(string Id, string Folder, BundleManifest Manifest, string ManifestSha256, bool Signed,
    ModelVersion Source, string StagedDir)
{
    /// <summary>The staged copy of the manifest, byte for byte the one checked.</summary>
    public string ManifestPath => Path.Combine(StagedDir, BundleManifest.FileName);

    /// <summary>
    /// Checks <paramref name="folder"/> and copies its files into <paramref name="stagingDir"/> (created).
    /// Refuses, naming the problem: a symbolic link, a file the manifest does not list, a manifest path that
    /// leaves the bundle, a newer bundle format, a file of another size or hash, a missing or wrong
    /// signature when <paramref name="requireSignature"/> (and a wrong one whenever a key is given).
    /// </summary>
    /// <param name="location">Where the bundle came from, for messages and <see cref="Folder"/> (default: <paramref name="folder"/>).</param>
    public static VerifiedBundle Stage(string folder, string stagingDir, bool requireSignature, byte[]? key, string? location = null)
    {
        folder = Path.GetFullPath(folder);
        var shown = location ?? folder;
        var id = Path.GetFileName(folder);
        if (!Directory.Exists(folder)) throw new BundleException($"Bundle {shown} does not exist.");
        RefuseLinks(new DirectoryInfo(folder), folder);

        var manifestPath = Path.Combine(folder, BundleManifest.FileName);
        if (!File.Exists(manifestPath)) throw new BundleException($"Bundle {shown} has no {BundleManifest.FileName}; it is not a bundle or was not fully published.");
        var manifestBytes = File.ReadAllBytes(manifestPath);
        var manifest = BundleManifest.Parse(manifestBytes, location is null ? manifestPath : $"{location}/{BundleManifest.FileName}");
        var signed = CheckSignature(folder, shown, manifestBytes, requireSignature, key);

        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            CheckPath(folder, shown, file.Path);
            if (!listed.Add(file.Path)) throw new BundleException($"Bundle {id}: the manifest lists '{file.Path}' twice.");
        }
        foreach (var path in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
            if (relative is BundleManifest.FileName or BundleManifest.SignatureFileName) continue;
            if (!listed.Contains(relative))
                throw new BundleException($"Bundle {id} holds '{relative}', which its manifest does not list. A bundle holds exactly its manifest's files; publish it again.");
        }
        foreach (var required in new[] { CandidateModel.ModelFile, BundlePublisher.VersionFile })
            if (!listed.Contains(required)) throw new BundleException($"Bundle {id}'s manifest does not list {required}; it cannot be imported.");

        Directory.CreateDirectory(stagingDir);
        File.WriteAllBytes(Path.Combine(stagingDir, BundleManifest.FileName), manifestBytes); // the bytes that were checked
        foreach (var file in manifest.Files) CopyChecked(folder, id, file, stagingDir);

        var source = JsonSerializer.Deserialize<ModelVersion>(File.ReadAllBytes(Path.Combine(stagingDir, BundlePublisher.VersionFile)), AtomicFile.Json)
            ?? throw new BundleException($"Bundle {id}: {BundlePublisher.VersionFile} is empty.");
        return new VerifiedBundle(id, shown, manifest, Hashing.Sha256Hex(manifestBytes), signed, source, stagingDir);
    }

    static bool CheckSignature(string folder, string shown, byte[] manifest, bool required, byte[]? key)
    {
        var path = Path.Combine(folder, BundleManifest.SignatureFileName);
        var present = File.Exists(path);
        if (required && key is null)
            throw new BundleException($"A signed bundle is required but {BundleSignature.KeyVariable} is not set here. Set it to the key the publisher signs with.");
        if (required && !present)
            throw new BundleException($"Bundle {shown} is not signed ({BundleManifest.SignatureFileName} is missing) and a signature is required. Publish it with {BundleSignature.KeyVariable} set.");
        if (!present || key is null) return false;
        if (!BundleSignature.Matches(manifest, File.ReadAllText(path), key))
            throw new BundleException($"Bundle {shown}: the signature does not match the manifest. The manifest was changed after signing, or the keys differ; do not import it.");
        return true;
    }

    /// <summary>A manifest path is a plain relative path inside the bundle: no root, no '..', no '\', no empty part.</summary>
    static void CheckPath(string folder, string shown, string path)
    {
        var parts = path.Split('/');
        var full = Path.GetFullPath(Path.Combine(folder, path));
        if (string.IsNullOrEmpty(path) || path.Contains('\\') || path.Contains(':') || Path.IsPathRooted(path)
            || parts.Any(p => p is "" or "." or "..") || !full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new BundleException($"Bundle {shown}: the manifest names the path '{path}', which is not a plain relative path inside the bundle. Refusing the bundle.");
        if (path is BundleManifest.FileName or BundleManifest.SignatureFileName)
            throw new BundleException($"Bundle {shown}: the manifest lists itself ('{path}').");
    }

    /// <summary>Bundles hold plain files: a link could point anywhere on the reading machine.</summary>
    static void RefuseLinks(DirectoryInfo dir, string bundle)
    {
        if (dir.LinkTarget is not null)
            throw new BundleException($"Bundle {bundle}: {dir.FullName} is a symbolic link (to {dir.LinkTarget}); bundles hold plain files only.");
        foreach (var entry in dir.EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
                throw new BundleException($"Bundle {bundle}: '{Path.GetRelativePath(bundle, entry.FullName)}' is a symbolic link (to {entry.LinkTarget}); bundles hold plain files only.");
            if (entry is DirectoryInfo sub) RefuseLinks(sub, bundle);
        }
    }

    static void CopyChecked(string folder, string id, BundleFile file, string stagingDir)
    {
        var source = Path.Combine(folder, file.Path);
        if (!File.Exists(source)) throw new BundleException($"Bundle {id}: '{file.Path}' is listed in the manifest but missing.");
        var target = Path.Combine(stagingDir, file.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read))
        using (var output = File.Create(target))
            input.CopyTo(output);
        var size = new FileInfo(target).Length;
        if (size != file.Size)
            throw new BundleException($"Bundle {id}: '{file.Path}' has {size} bytes but the manifest says {file.Size}; it is {(size < file.Size ? "truncated" : "longer than published")}. Publish it again.");
        var sha = Hashing.Sha256File(target);
        if (sha != file.Sha256)
            throw new BundleException($"Bundle {id}: '{file.Path}' has sha256 {sha} but the manifest says {file.Sha256}; it was changed after publishing. Publish it again.");
    }
}
