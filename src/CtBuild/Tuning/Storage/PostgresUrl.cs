using System.Globalization;
using Npgsql;

namespace CtBuild.Tuning;

/// <summary>
/// A <c>postgresql://user@host:5432/db</c> URL as users write it in <c>tune.storage</c> or <c>CTB_TUNE_STORAGE</c>. The
/// password comes, in this order, from the URL (discouraged), <c>PGPASSWORD</c>, or the standard password file
/// (<c>PGPASSFILE</c>, else <c>~/.pgpass</c>); <see cref="ToString"/> never shows it.
/// </summary>
public sealed record PostgresUrl(string Host, int Port, string User, string Database, string? Password, IReadOnlyDictionary<string, string> Options)
{
    /// <summary>True when <paramref name="url"/> names a PostgreSQL server rather than a folder.</summary>
    public static bool IsPostgres(string? url) =>
        url is not null && (url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase));

    /// <exception cref="CtBuildException">Exit code 2, naming what is wrong with the URL (its password masked).</exception>
    public static PostgresUrl Parse(string url)
    {
        if (!IsPostgres(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            throw Bad(url, "expected postgresql://user@host:5432/database");
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/')) throw Bad(url, "name one database after the host, e.g. postgresql://ctb@db.internal:5432/ctb");
        var userInfo = uri.UserInfo.Split(':', 2);
        var user = Uri.UnescapeDataString(userInfo[0]);
        if (user.Length == 0) throw Bad(url, "name the user, e.g. postgresql://ctb@host/database");
        var password = userInfo.Length == 2 ? Uri.UnescapeDataString(userInfo[1]) : null;
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            if (key is not ("sslmode" or "application_name" or "connect_timeout"))
                throw Bad(url, $"unknown option '{key}' (CtBuild takes sslmode, application_name, connect_timeout)");
            options[key] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
        }
        return new PostgresUrl(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port, user, database, password, options);
    }

    /// <summary>An Npgsql connection string with a small pool and a bounded connect timeout.</summary>
    public string ConnectionString(int maxPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = User,
            Database = Database,
            MaxPoolSize = maxPoolSize,
            Timeout = Options.TryGetValue("connect_timeout", out var t) ? int.Parse(t, CultureInfo.InvariantCulture) : 10,
            CommandTimeout = 60,
            KeepAlive = 30,
            ApplicationName = Options.GetValueOrDefault("application_name") ?? "ctb",
        };
        if (Options.TryGetValue("sslmode", out var ssl)) builder.SslMode = Enum.Parse<SslMode>(ssl.Replace("-", ""), ignoreCase: true);
        var password = Password ?? Environment.GetEnvironmentVariable("PGPASSWORD");
        if (!string.IsNullOrEmpty(password)) builder.Password = password;
        else if (PassFile() is { } file) builder.Passfile = file;
        return builder.ConnectionString;
    }

    /// <summary><c>postgresql://user@host:port/database</c>: never the password.</summary>
    public override string ToString() => $"postgresql://{User}@{Host}:{Port}/{Database}";

    private static string? PassFile()
    {
        var file = Environment.GetEnvironmentVariable("PGPASSFILE")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pgpass");
        return File.Exists(file) ? file : null;
    }

    private static CtBuildException Bad(string url, string what) =>
        new($"tune.storage '{Mask(url)}' is not a PostgreSQL URL CtBuild can use: {what}.", 2);

    private static string Mask(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal), at = url.LastIndexOf('@');
        if (scheme < 0 || at < scheme) return url;
        var info = url[(scheme + 3)..at];
        int colon = info.IndexOf(':');
        return colon < 0 ? url : url[..(scheme + 3)] + info[..colon] + ":***" + url[at..];
    }
}
