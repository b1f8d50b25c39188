using System.Text.Json;
using CtBuild.Storage;

namespace CtBuild.Publishing;

/// <summary>
/// <c>manifest.json</c> of a bundle: what was published and every file in it with its size and sha256.
/// The manifest is the only thing a reader trusts; a file it does not list is an error, not a bonus.
/// </summary>
/// <param name="FormatVersion">Bundle layout version; a reader refuses a newer one than it knows.</param>
/// <param name="Model">The registered model's name.</param>
/// <param name="Version">The model's version in the publishing environment's registry.</param>
/// <param name="Environment">The environment that published it (e.g. dev).</param>
/// <param name="Onnx">"model.onnx" when exported, else "not supported: &lt;reason&gt;".</param>
public sealed record BundleManifest(
    int FormatVersion,
    string Model,
    int Version,
    string Environment,
    DateTimeOffset Created,
    string Onnx,
    IReadOnlyList<BundleFile> Files)
{
    /// <summary>The newest layout this code writes and reads.</summary>
    public const int CurrentFormat = 1;
    public const string FileName = "manifest.json";
    /// <summary>The HMAC-SHA256 of the manifest's bytes, beside it.</summary>
    public const string SignatureFileName = "manifest.json.sig";

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, AtomicFile.Json);

    /// <summary>Parses manifest bytes; refuses a format newer than <see cref="CurrentFormat"/> before reading anything else.</summary>
    public static BundleManifest Parse(byte[] bytes, string where)
    {
        try
        {
            using (var doc = JsonDocument.Parse(bytes))
            {
                if (!doc.RootElement.TryGetProperty("formatVersion", out var f) || !f.TryGetInt32(out var format))
                    throw new BundleException($"{where} has no formatVersion; it is not a ctb bundle manifest.");
                if (format > CurrentFormat)
                    throw new BundleException($"{where} is bundle format {format}, newer than the {CurrentFormat} this ctb reads. " +
                                              "Update ctb on this side (or publish with the older ctb) and import again.");
            }
            var manifest = JsonSerializer.Deserialize<BundleManifest>(bytes, AtomicFile.Json)
                ?? throw new BundleException($"{where} is empty.");
            if (manifest.Files is null || string.IsNullOrEmpty(manifest.Model))
                throw new BundleException($"{where} lacks its model name or file list.");
            return manifest;
        }
        catch (JsonException ex)
        {
            throw new BundleException($"{where} is not valid JSON ({ex.Message}); the bundle is damaged. Publish it again.");
        }
    }
}

/// <summary>One file of a bundle; <see cref="Path"/> is relative to the bundle folder, '/'-separated.</summary>
public sealed record BundleFile(string Path, string Sha256, long Size);

/// <summary>A bundle that cannot be published or imported; the message names the bundle and the problem.</summary>
public sealed class BundleException(string message) : CtBuildException(message);
