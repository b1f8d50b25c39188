using System.Text.Json;
using CtBuild.Configuration;
using CtBuild.Evaluation;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Training;

namespace CtBuild.Publishing;

/// <summary>A bundle in shared storage.</summary>
/// <param name="Folder">Where it is: the bundle folder, or its container URL (<c>az://…/&lt;model&gt;/&lt;id&gt;</c>).</param>
/// <param name="Id">The bundle folder's name, <c>v&lt;N&gt;-&lt;first 12 hex of the model's sha256&gt;</c>.</param>
/// <param name="AlreadyPublished">True when this version was published before and nothing was written.</param>
public sealed record PublishedBundle(string Folder, string Id, BundleManifest Manifest, bool Signed, bool AlreadyPublished);

/// <summary>
/// Publish: copies a registered version (model file, model card, the registry's version record, an ONNX
/// export when the trainer supports it) into <c>&lt;shared&gt;/&lt;model&gt;/v&lt;N&gt;-&lt;sha12&gt;/</c> with a manifest
/// of every file's size and sha256, optionally signed. The bundle is built in a local folder and handed to
/// the store (<see cref="IBundleStore"/>: a folder or a blob container), which makes it visible all at once,
/// so a reader sees a whole bundle or none.
/// </summary>
public static class BundlePublisher
{
    /// <summary>The publishing registry's record of the version: params, input signature, metrics, lineage.</summary>
    public const string VersionFile = "model-version.json";
    public const string OnnxFile = "model.onnx";

    /// <summary>Publishes <paramref name="version"/>, or the version <paramref name="alias"/> points to (default: the champion).</summary>
    /// <param name="sharedDir">The shared folder, or a container URL <c>az://&lt;account&gt;/&lt;container&gt;/&lt;prefix&gt;</c> (see <see cref="BundleStore"/>).</param>
    /// <param name="key">HMAC key to sign the manifest with; unsigned when null.</param>
    /// <param name="credentials">For a container URL; the standard environment variables when null.</param>
    public static PublishedBundle Publish(Workspace ws, string sharedDir, string? model = null, int? version = null, string? alias = null, byte[]? key = null,
        Blobs.BlobCredentials? credentials = null)
    {
        if (version is not null && alias is not null)
            throw new ConfigException("Give either --version or --alias, not both.");
        model ??= ws.Config.Name;
        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var record = version is { } v ? registry.GetVersion(model, v)
            : registry.ResolveAlias(model, alias ?? ModelRegistry.ChampionAlias)
              ?? throw new RegistryException($"Model '{model}' has no alias '{alias ?? ModelRegistry.ChampionAlias}' in {ws.ModelsDir}. Promote a version first, or name one with --version.");
        var modelFile = record.Artifacts.FirstOrDefault(a => a.Name == CandidateModel.ModelFile)
            ?? throw new RegistryException($"Version {record.Version} of '{model}' has no {CandidateModel.ModelFile} artifact to publish.");

        var id = $"v{record.Version}-{modelFile.Sha256[..12]}";
        var store = BundleStore.Open(sharedDir, credentials);
        if (store.Published(model, id) is { } published) return published;

        var temp = store.NewBuildFolder(model, id, ws.StateDir);
        try
        {
            foreach (var artifact in record.Artifacts)
            {
                // The registry hands out only bytes that match their recorded sha256.
                using var source = registry.OpenModelFile(model, record.Version, artifact.Name);
                var path = Path.Combine(temp, artifact.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var file = File.Create(path);
                source.CopyTo(file);
            }
            File.WriteAllBytes(Path.Combine(temp, VersionFile), JsonSerializer.SerializeToUtf8Bytes(record, AtomicFile.Json));
            var notExported = OnnxExport.TryExport(Path.Combine(temp, CandidateModel.ModelFile),
                ChampionComparison.SignatureOf(record, ws.Config.Features.Label), Path.Combine(temp, OnnxFile));

            var files = Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories)
                .Select(f => new BundleFile(Path.GetRelativePath(temp, f).Replace('\\', '/'), Hashing.Sha256File(f), new FileInfo(f).Length))
                .OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
            var manifest = new BundleManifest(BundleManifest.CurrentFormat, model, record.Version, ws.Environment, DateTimeOffset.UtcNow,
                notExported is null ? OnnxFile : $"not supported: {notExported}", files);
            var bytes = manifest.ToBytes();
            File.WriteAllBytes(Path.Combine(temp, BundleManifest.FileName), bytes);
            if (key is not null) File.WriteAllText(Path.Combine(temp, BundleManifest.SignatureFileName), BundleSignature.Sign(bytes, key));
            return store.Commit(model, id, temp, manifest, key is not null);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }
}
