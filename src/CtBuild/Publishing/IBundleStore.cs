using CtBuild.Blobs;

namespace CtBuild.Publishing;

/// <summary>
/// Shared storage for bundles, as the publisher and the importer see it: <c>&lt;model&gt;/&lt;id&gt;/</c> holding a
/// manifest and the files it lists. Both sides build and verify bundles in local folders; a store only
/// moves finished folders in and out, so what is published and what is refused is decided in one place
/// (<see cref="BundlePublisher"/>, <see cref="VerifiedBundle"/>) whatever the storage.
/// </summary>
public interface IBundleStore
{
    /// <summary>The bundle <paramref name="id"/> of <paramref name="model"/> when it is fully published, else null.</summary>
    PublishedBundle? Published(string model, string id);

    /// <summary>A new empty local folder to build bundle <paramref name="id"/> in; <paramref name="scratchDir"/> is this machine's own scratch space.</summary>
    string NewBuildFolder(string model, string id, string scratchDir);

    /// <summary>
    /// Makes the bundle built in <paramref name="built"/> visible, all of it at once, unless another
    /// publisher got there first: then that bundle is returned (<see cref="PublishedBundle.AlreadyPublished"/>).
    /// </summary>
    PublishedBundle Commit(string model, string id, string built, BundleManifest manifest, bool signed);

    /// <summary>
    /// A local folder holding the bundle at the store's location, or the newest bundle of <paramref name="model"/>
    /// under it, and where it came from (for messages); a remote bundle is downloaded into <paramref name="scratchDir"/>.
    /// </summary>
    FetchedBundle Fetch(string model, string scratchDir);
}

/// <summary>A bundle as found in shared storage, readable at <see cref="Folder"/>; <see cref="Location"/> names it for people.</summary>
public sealed record FetchedBundle(string Folder, string Location);

/// <summary>Opens the store a <c>--to</c>/<c>--from</c> names: a container URL (<c>az://…</c>) or a folder.</summary>
public static class BundleStore
{
    public static IBundleStore Open(string target, BlobCredentials? credentials = null) =>
        BlobLocation.IsBlobUrl(target)
            ? new BlobBundleStore(BlobLocation.Parse(target), credentials ?? BlobCredentials.FromEnvironment())
            : new FolderBundleStore(Path.GetFullPath(target));
}
