using System.Text.RegularExpressions;

namespace CtBuild.Blobs;

/// <summary>
/// A place in Azure Blob Storage, written <c>az://&lt;account&gt;/&lt;container&gt;[/&lt;prefix&gt;]</c>. It never holds a
/// secret: credentials come from the environment (see <see cref="BlobCredentials"/>), so the URL can be
/// logged, shown in errors and kept in <c>ctbuild.json</c>.
/// </summary>
/// <param name="Prefix">'/'-separated, without leading or trailing '/'; empty for the container's root.</param>
public sealed partial record BlobLocation(string Account, string Container, string Prefix)
{
    public const string Scheme = "az://";

    /// <summary>True when <paramref name="text"/> is meant as a container URL rather than a folder.</summary>
    public static bool IsBlobUrl(string text) => text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses <c>az://account/container/prefix</c>; a bad one is a <see cref="ConfigException"/> saying which part is wrong.</summary>
    public static BlobLocation Parse(string url)
    {
        if (!IsBlobUrl(url)) throw new ConfigException($"'{url}' is not a container URL; write az://<account>/<container>/<prefix>.");
        if (url.Contains('?') || url.Contains(';') || url.Contains('#'))
            throw new ConfigException($"'{Redacted(url)}' carries a query or settings; a container URL holds no secret. " +
                                      $"Give the SAS or connection string in {BlobCredentials.ConnectionStringVariable} or {BlobCredentials.SasTokenVariable}.");
        var parts = url[Scheme.Length..].Split('/');
        var account = parts[0];
        var container = parts.Length > 1 ? parts[1] : "";
        if (!AccountName().IsMatch(account))
            throw new ConfigException($"'{url}': '{account}' is not a storage account name (3-24 lower-case letters and digits). Write az://<account>/<container>/<prefix>.");
        if (!ContainerName().IsMatch(container))
            throw new ConfigException($"'{url}': '{container}' is not a container name (3-63 lower-case letters, digits and single '-'). Write az://<account>/<container>/<prefix>.");
        var segments = parts.Skip(2).Where(p => p.Length > 0).ToList();
        if (segments.Any(p => p is "." or ".." || p.Contains('\\')))
            throw new ConfigException($"'{url}': the prefix may not hold '.', '..' or '\\' parts.");
        return new BlobLocation(account, container, string.Join('/', segments));
    }

    /// <summary>The blob name of <paramref name="relative"/> ('/'-separated) under this prefix.</summary>
    public string BlobName(string relative) => Prefix.Length == 0 ? relative : $"{Prefix}/{relative}";

    /// <summary>This location with <paramref name="relative"/> appended to the prefix.</summary>
    public BlobLocation Child(string relative) => this with { Prefix = BlobName(relative.Trim('/')) };

    /// <summary>The prefix to list under: the prefix and a '/', or empty for the container's root.</summary>
    public string ListPrefix => Prefix.Length == 0 ? "" : Prefix + "/";

    public override string ToString() => $"{Scheme}{Account}/{Container}" + (Prefix.Length == 0 ? "" : "/" + Prefix);

    /// <summary><paramref name="url"/> with anything after '?' or ';' cut, for a message.</summary>
    static string Redacted(string url) => url.Split('?', ';', '#')[0] + "?…";

    [GeneratedRegex("^[a-z0-9]{3,24}$")] private static partial Regex AccountName();
    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")] private static partial Regex ContainerName();
}
