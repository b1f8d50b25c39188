using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtBuild.Blobs;
using CtBuild.Pipeline;
using CtBuild.Storage;

namespace CtBuild.Publishing;

/// <summary>
/// Bundles in an Azure Blob Storage container, where there is no rename. A publisher uploads its files
/// under its own staging prefix (<c>&lt;model&gt;/.staging/&lt;id&gt;/&lt;attempt&gt;/</c>), then claims the bundle by
/// creating <c>&lt;model&gt;/.claims/&lt;id&gt;.json</c> with <c>If-None-Match: *</c>: of two publishers only one
/// claim is created. The claimed attempt is then copied to <c>&lt;model&gt;/&lt;id&gt;/</c>, each file checked
/// against the staged manifest, and the manifest is created last, again with <c>If-None-Match: *</c>.
/// Readers see a bundle only once its manifest exists, so they see all of it or none of it. A publisher
/// killed after its claim leaves a complete staged attempt, which the next publisher finishes; one killed
/// before leaves only unclaimed staging, which the next successful publish deletes.
/// </summary>
public sealed class BlobBundleStore(BlobLocation location, BlobCredentials credentials) : IBundleStore
{
    readonly BlobContainerClient _container = credentials.Open(location);

    public PublishedBundle? Published(string model, string id)
    {
        var bundle = location.Child($"{model}/{id}");
        var manifest = TryRead(bundle.BlobName(BundleManifest.FileName));
        if (manifest is null) return null;
        var signed = Call("read", () => _container.GetBlobClient(bundle.BlobName(BundleManifest.SignatureFileName)).Exists().Value);
        return new PublishedBundle(bundle.ToString(), id, BundleManifest.Parse(manifest, $"{bundle}/{BundleManifest.FileName}"), signed, true);
    }

    public string NewBuildFolder(string model, string id, string scratchDir)
    {
        var folder = Path.Combine(scratchDir, "publish", $".{id}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    public PublishedBundle Commit(string model, string id, string built, BundleManifest manifest, bool signed)
    {
        var attempt = Guid.NewGuid().ToString("N");
        var staging = location.Child($"{model}/.staging/{id}/{attempt}");
        // The manifest goes last, so a staged attempt with a manifest is complete (what Finish relies on).
        var files = Directory.EnumerateFiles(built, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(built, f).Replace('\\', '/'))
            .OrderBy(f => f == BundleManifest.FileName).ThenBy(f => f, StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            Call("upload to", () => _container.GetBlobClient(staging.BlobName(file)).Upload(Path.Combine(built, file), overwrite: true));
            FaultInjection.Point("publish.blob-after-upload", staging.BlobName(file));
        }

        var claim = ClaimName(model, id);
        FaultInjection.Point("publish.blob-before-claim", claim);
        var won = TryCreate(claim, JsonSerializer.SerializeToUtf8Bytes(new Claim(attempt, DateTimeOffset.UtcNow), AtomicFile.Json));
        var winner = won ? attempt : ReadClaim(model, id).Attempt;
        Finish(model, id, winner);
        DeleteStaging(model, id);
        return won ? new PublishedBundle(location.Child($"{model}/{id}").ToString(), id, manifest, signed, false)
            : Published(model, id) ?? throw new BundleException($"{location.Child($"{model}/{id}")}: the bundle was claimed by attempt {winner} but is not published. Run publish again.");
    }

    public FetchedBundle Fetch(string model, string scratchDir)
    {
        var bundle = TryRead(location.BlobName(BundleManifest.FileName)) is not null ? location : Newest(model);
        var id = bundle.Prefix.Length == 0 ? "bundle" : bundle.Prefix.Split('/')[^1];
        var folder = Path.Combine(scratchDir, id);
        Directory.CreateDirectory(folder);
        foreach (var blob in Call("list", () => _container.GetBlobs(BlobTraits.None, BlobStates.None, bundle.ListPrefix, default).ToList()))
        {
            var relative = blob.Name[bundle.ListPrefix.Length..];
            var parts = relative.Split('/');
            // Blob names are free text; only plain relative names may become local paths.
            if (parts.Any(p => p is "" or "." or ".." || p.Contains('\\') || p.Contains(':')))
                throw new BundleException($"Bundle {bundle} holds the blob '{blob.Name}', which is not a plain path inside the bundle. Refusing the bundle.");
            var local = Path.Combine(folder, Path.Combine(parts));
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            Call("download from", () => _container.GetBlobClient(blob.Name).DownloadTo(local));
        }
        return new FetchedBundle(folder, bundle.ToString());
    }

    /// <summary>The newest fully published bundle (one with a manifest) of <paramref name="model"/>.</summary>
    BlobLocation Newest(string model)
    {
        var modelDir = location.Child(model);
        var candidates = Call("list", () => _container.GetBlobsByHierarchy(BlobTraits.None, BlobStates.None, "/", modelDir.ListPrefix)
            .Where(i => i.IsPrefix).Select(i => i.Prefix.TrimEnd('/').Split('/')[^1]).Where(n => !n.StartsWith('.')).ToList());
        var newest = candidates
            .Select(id => (Bundle: modelDir.Child(id), Bytes: TryRead(modelDir.Child(id).BlobName(BundleManifest.FileName))))
            .Where(c => c.Bytes is not null)
            .Select(c => (c.Bundle, BundleManifest.Parse(c.Bytes!, $"{c.Bundle}/{BundleManifest.FileName}").Created))
            .OrderByDescending(c => c.Created).Select(c => c.Bundle).FirstOrDefault();
        return newest ?? throw new BundleException($"No bundle of '{model}' under {location} (looked in {modelDir}/). Publish one with `ctb publish {model} --to {location}`.");
    }

    /// <summary>Copies the claimed attempt into the bundle's place, each file checked, and creates the manifest last.</summary>
    void Finish(string model, string id, string attempt)
    {
        var bundle = location.Child($"{model}/{id}");
        bool Done() => Call("read", () => _container.GetBlobClient(bundle.BlobName(BundleManifest.FileName)).Exists().Value);
        if (Done()) return;
        var staging = location.Child($"{model}/.staging/{id}/{attempt}");
        // Staged files vanish once another publisher has finished the bundle and cleaned up: then all is well.
        var manifestBytes = TryRead(staging.BlobName(BundleManifest.FileName));
        if (manifestBytes is null && Done()) return;
        if (manifestBytes is null)
            throw new BundleException($"{ClaimLocation(model, id)} claims {bundle} for attempt {attempt}, but that attempt's staged files are gone. " +
                                      "Delete the claim blob and publish again.");
        var manifest = BundleManifest.Parse(manifestBytes, $"{staging}/{BundleManifest.FileName}");
        foreach (var file in manifest.Files)
        {
            var bytes = TryRead(staging.BlobName(file.Path));
            if (bytes is null && Done()) return;
            if (bytes is null)
                throw new BundleException($"{staging}: '{file.Path}' is listed in the staged manifest but missing. Delete {ClaimLocation(model, id)} and publish again.");
            if (bytes.Length != file.Size || Hashing.Sha256Hex(bytes) != file.Sha256)
                throw new BundleException($"{staging}: '{file.Path}' does not match the staged manifest (size or sha256). Delete {ClaimLocation(model, id)} and publish again.");
            Call("upload to", () => _container.GetBlobClient(bundle.BlobName(file.Path)).Upload(BinaryData.FromBytes(bytes), overwrite: true));
            FaultInjection.Point("publish.blob-after-copy", bundle.BlobName(file.Path));
        }
        if (TryRead(staging.BlobName(BundleManifest.SignatureFileName)) is { } signature)
            Call("upload to", () => _container.GetBlobClient(bundle.BlobName(BundleManifest.SignatureFileName)).Upload(BinaryData.FromBytes(signature), overwrite: true));
        TryCreate(bundle.BlobName(BundleManifest.FileName), manifestBytes); // lost: another publisher finished the same attempt
    }

    /// <summary>Once the bundle is published, every staged attempt of it is garbage (best effort: a later publish retries).</summary>
    void DeleteStaging(string model, string id)
    {
        var staging = location.Child($"{model}/.staging/{id}");
        try
        {
            foreach (var blob in _container.GetBlobs(BlobTraits.None, BlobStates.None, staging.ListPrefix, default).ToList())
                _container.GetBlobClient(blob.Name).DeleteIfExists();
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException) { } // e.g. a SAS without delete: the bundle is published all the same
    }

    Claim ReadClaim(string model, string id)
    {
        var bytes = TryRead(ClaimName(model, id)) ?? throw new BundleException($"{ClaimLocation(model, id)} vanished while publishing. Run publish again.");
        return JsonSerializer.Deserialize<Claim>(bytes, AtomicFile.Json)
            ?? throw new BundleException($"{ClaimLocation(model, id)} is empty. Delete it and publish again.");
    }

    string ClaimName(string model, string id) => location.BlobName($"{model}/.claims/{id}.json");
    BlobLocation ClaimLocation(string model, string id) => location.Child($"{model}/.claims/{id}.json");

    /// <summary>Creates <paramref name="name"/> only if no blob of that name exists; false when one does.</summary>
    bool TryCreate(string name, byte[] bytes)
    {
        try
        {
            Call("upload to", () => _container.GetBlobClient(name).Upload(BinaryData.FromBytes(bytes),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }));
            return true;
        }
        catch (CtBuildException ex) when (ex.InnerException is RequestFailedException r && BlobCalls.IsAlreadyExists(r)) { return false; }
    }

    /// <summary>The blob's bytes, or null when there is no such blob (a missing container is still an error).</summary>
    byte[]? TryRead(string name)
    {
        try { return Call("read", () => _container.GetBlobClient(name).DownloadContent().Value.Content.ToArray()); }
        catch (CtBuildException ex) when (ex.InnerException is RequestFailedException { Status: 404, ErrorCode: "BlobNotFound" }) { return null; }
    }

    T Call<T>(string doing, Func<T> call) => BlobCalls.Run(_container, location, doing, credentials, call);

    sealed record Claim(string Attempt, DateTimeOffset Created);
}
