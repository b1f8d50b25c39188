using System.IO.Enumeration;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CtBuild.Blobs;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Storage;

namespace CtBuild.Ingest;

/// <summary>A blob delivered into one of <c>ingest.sources</c>, downloaded as-is; <see cref="Name"/> is its URL, <c>az://…/&lt;blob&gt;</c>.</summary>
public sealed record DeliveredBlob(string Name, string FullPath, string ETag, string Sha256, long Size);

/// <summary>
/// Raw deliveries that land in containers (<c>ingest.sources</c>) rather than in the raw folder. Every blob
/// under a source's prefix that matches <c>ingest.patterns</c> is downloaded once per ETag into
/// <c>&lt;state&gt;/sources/</c>, with <c>If-Match</c> on the ETag it was listed with, so a blob rewritten while it
/// is read fails the download and is left for the next ingest instead of being ingested half old, half new.
/// Ingest then reads the local copies exactly like raw files (capture, contract, quarantine, each delivery once).
/// </summary>
public sealed class BlobDeliveries(Workspace ws, BlobCredentials credentials)
{
    public static BlobDeliveries For(Workspace ws) => new(ws, BlobCredentials.FromEnvironment());

    IReadOnlyList<BlobLocation> Sources => ws.Config.Ingest.Sources.Select(BlobLocation.Parse).ToList();

    /// <summary>Every delivered blob's name and ETag, without downloading: what Ingest's fingerprint sees.</summary>
    public IReadOnlyList<(string Name, string ETag)> List() =>
        Sources.SelectMany(source =>
        {
            var container = credentials.Open(source);
            return Listing(container, source).Select(b => (Name(source, b.Relative), b.Item.Properties.ETag?.ToString() ?? ""));
        }).OrderBy(b => b.Item1, StringComparer.Ordinal).ToList();

    /// <summary>Downloads what is new since the last call and returns the local copy of every delivered blob.</summary>
    public IReadOnlyList<DeliveredBlob> Fetch(IPipelineLog log)
    {
        var delivered = new List<DeliveredBlob>();
        foreach (var source in Sources)
        {
            var container = credentials.Open(source);
            var mirror = Path.Combine(ws.StateDir, "sources", Hashing.Sha256Hex(source.ToString())[..16]);
            var indexPath = Path.Combine(mirror, "index.json");
            var index = AtomicFile.ReadJson<Dictionary<string, DeliveredBlob>>(indexPath) ?? [];
            foreach (var (relative, item) in Listing(container, source))
            {
                var etag = item.Properties.ETag?.ToString() ?? "";
                var local = Path.Combine(mirror, "files", Path.Combine(relative.Split('/')));
                if (index.TryGetValue(relative, out var known) && known.ETag == etag && File.Exists(local))
                {
                    delivered.Add(known with { FullPath = local });
                    continue;
                }
                var name = Name(source, relative);
                FaultInjection.Point("ingest.blob-before-download", name);
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                var temp = local + $".{Environment.ProcessId}.tmp";
                try
                {
                    BlobCalls.Run(container, source, "download from", credentials, () => container.GetBlobClient(item.Name).DownloadTo(temp,
                        new BlobDownloadToOptions { Conditions = new BlobRequestConditions { IfMatch = item.Properties.ETag } }));
                }
                catch (CtBuildException ex) when (ex.InnerException is RequestFailedException { Status: 412 } or RequestFailedException { Status: 404, ErrorCode: "BlobNotFound" })
                {
                    File.Delete(temp);
                    log.Warning(ex.InnerException is RequestFailedException { Status: 404 }
                        ? $"{name} was deleted while it was being read; not ingested"
                        : $"{name} changed while it was being read (ETag {etag} no longer holds); not ingested now, the next ingest reads the new content", name);
                    continue;
                }
                var size = new FileInfo(temp).Length;
                if (size != item.Properties.ContentLength)
                {
                    File.Delete(temp);
                    log.Warning($"{name} was listed with {item.Properties.ContentLength} bytes but {size} were read; not ingested now", name);
                    continue;
                }
                File.Move(temp, local, overwrite: true);
                var blob = new DeliveredBlob(name, local, etag, Hashing.Sha256File(local), size);
                index[relative] = blob;
                AtomicFile.WriteJson(indexPath, index);
                delivered.Add(blob);
            }
        }
        return delivered.OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The blobs under <paramref name="source"/> that Ingest reads: a known format, a pattern's match, no hidden name.</summary>
    IEnumerable<(string Relative, BlobItem Item)> Listing(BlobContainerClient container, BlobLocation source)
    {
        var patterns = ws.Config.Ingest.Patterns;
        var items = BlobCalls.Run(container, source, "list", credentials,
            () => container.GetBlobs(BlobTraits.None, BlobStates.None, source.ListPrefix, default).ToList());
        foreach (var item in items)
        {
            var relative = item.Name[source.ListPrefix.Length..];
            var parts = relative.Split('/');
            var file = parts[^1];
            if (parts.Any(p => p is "" or "." or ".." || p.Contains('\\')) || file.StartsWith('.') || RawFile.FormatOf(file) is null
                || !patterns.Any(p => FileSystemName.MatchesSimpleExpression(p, file))) continue;
            yield return (relative, item);
        }
    }

    static string Name(BlobLocation source, string relative) => $"{source}/{relative}";
}
