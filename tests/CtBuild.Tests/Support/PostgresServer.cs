using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CtBuild.Tests.Support;

/// <summary>
/// A real PostgreSQL 15 cluster for one test class: <c>initdb</c> into a temp folder, <c>pg_ctl start</c> on a free
/// loopback port, the local socket trusted and TCP logins by password, stopped and deleted on dispose. PostgreSQL refuses to run as root, so as root
/// (CI) it runs as the <c>postgres</c> system user through <c>runuser</c>. When the binaries are absent,
/// <see cref="PostgresFactAttribute"/> skips the tests with that message.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    static readonly string[] BinDirs = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"];

    /// <summary>Null when PostgreSQL's server binaries are installed, else why tests that need them skip.</summary>
    public static string? Missing => BinDirs.Any(d => File.Exists(Path.Combine(d, "initdb"))) ? null
        : "PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql); .ci/run installs them.";
    readonly string? _bin;
    readonly string _folder;
    readonly bool _asPostgresUser;

    public PostgresServer()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"ctb-pg-{Guid.NewGuid():N}");
        _bin = BinDirs.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")));
        if (_bin is null) return;
        _asPostgresUser = Environment.UserName == "root";
        Directory.CreateDirectory(_folder);
        if (_asPostgresUser) Run("chown", $"postgres \"{_folder}\"", asPostgres: false);
        Port = FreePort();
        // Local socket trusted (for set-up), TCP needs the password: so tests see a real login, and a refused one.
        File.WriteAllText(Path.Combine(_folder, "pwfile"), Password);
        if (_asPostgresUser) Run("chown", $"postgres \"{_folder}/pwfile\"", asPostgres: false);
        Run(Path.Combine(_bin, "initdb"), $"-D \"{_folder}/data\" --auth-local=trust --auth-host=scram-sha-256 --pwfile=\"{_folder}/pwfile\" -U postgres -E UTF8 --no-sync",
            asPostgres: _asPostgresUser);
        // fsync off: a test cluster's durability across power loss does not matter, its speed does.
        Run(Path.Combine(_bin, "pg_ctl"),
            $"-D \"{_folder}/data\" -l \"{_folder}/log\" -w -t 60 -o \"-p {Port} -k {_folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start",
            asPostgres: _asPostgresUser);
        Started = true;
    }

    public bool Started { get; }

    public int Port { get; }

    /// <summary>The password of the <c>postgres</c> user over TCP (tests pass it as PGPASSWORD or in the URL).</summary>
    public const string Password = "ctb-test-secret-7f3a";

    /// <summary>The URL form users put in <c>tune.storage</c>, for the database <paramref name="database"/> (no password).</summary>
    public string Url(string database = "postgres") => $"postgresql://postgres@127.0.0.1:{Port}/{database}";

    /// <summary>The same with the password in it, for in-process tests (environment variables are process-wide).</summary>
    public string UrlWithPassword(string database) => $"postgresql://postgres:{Password}@127.0.0.1:{Port}/{database}";

    /// <summary>Creates a fresh database (one per test, so tests in a class run independently) and returns its name.</summary>
    public string NewDatabase()
    {
        var name = $"t{Guid.NewGuid():N}";
        using var conn = new Npgsql.NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password};Database=postgres;Pooling=false");
        conn.Open();
        using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE {name}", conn);
        cmd.ExecuteNonQuery();
        return name;
    }

    /// <summary>Runs one SQL statement in <paramref name="database"/> (for tests that tamper with the server's state).</summary>
    public object? Sql(string database, string sql)
    {
        using var conn = new Npgsql.NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password};Database={database};Pooling=false");
        conn.Open();
        using var cmd = new Npgsql.NpgsqlCommand(sql, conn);
        return cmd.ExecuteScalar();
    }

    public void Dispose()
    {
        if (Started && _bin is not null)
        {
            try { Run(Path.Combine(_bin, "pg_ctl"), $"-D \"{_folder}/data\" -m immediate -w stop", asPostgres: _asPostgresUser); }
            catch (InvalidOperationException) { } // already gone
        }
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static void Run(string file, string args, bool asPostgres)
    {
        var psi = asPostgres
            ? new ProcessStartInfo("runuser", $"-u postgres -- \"{file}\" {args}")
            : new ProcessStartInfo(file, args);
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        psi.WorkingDirectory = "/";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new InvalidOperationException($"{file} {args} timed out"); }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {args} failed (exit {p.ExitCode}): {stderr.Result}{stdout.Result}");
    }
}

/// <summary>A fact that needs a real PostgreSQL server: skipped, saying why, only when the binaries are absent.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.Missing is { } why) Skip = why;
    }
}
