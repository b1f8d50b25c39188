using CtBuild.Lake;
using DuckDB.NET.Data;

namespace CtBuild.Tests.Lake;

/// <summary>A unique temporary folder per test, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ctb-lake-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The read-only golden tables from delta-io/delta (see /work/shared/delta-golden/INDEX.md).</summary>
internal static class Golden
{
    public static readonly string Root = Environment.GetEnvironmentVariable("CTB_DELTA_GOLDEN") ?? CtBuild.Tests.Support.TempWorkspace.SharedFolder("delta-golden");

    public static DeltaTable Table(string name) => DeltaTable.At(Path.Combine(Root, name));

    /// <summary>Copies a golden table to <paramref name="into"/> (for tests that change mtimes or write).</summary>
    public static DeltaTable CopyTo(string name, string into)
    {
        var source = Path.Combine(Root, name);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(into, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return DeltaTable.At(into);
    }
}

/// <summary>Runs SQL against a fresh in-memory DuckDB.</summary>
internal sealed class Db : IDisposable
{
    public DuckDBConnection Connection { get; } = new("Data Source=:memory:");

    public Db() => Connection.Open();

    public List<object?[]> Rows(string sql) => DuckDbQuery.Rows(Connection, sql);

    public object? Scalar(string sql) => Rows(sql)[0][0];

    public long Count(DeltaSnapshot s) => Convert.ToInt64(Scalar($"SELECT count(*) FROM {s.ToDuckDbSql()}"));

    public List<long> Longs(string sql) => Rows(sql).Select(r => Convert.ToInt64(r[0])).ToList();

    public void Dispose() => Connection.Dispose();
}
