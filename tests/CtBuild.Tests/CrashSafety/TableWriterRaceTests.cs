using CtBuild.Lake;
using CtBuild.Storage;

namespace CtBuild.Tests.CrashSafety;

/// <summary>Many writers appending to one table at once (threads, each with its own DuckDB): every append lands once, versions have no gap.</summary>
[Trait("Category", "CrashSafety")]
public sealed class TableWriterRaceTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("ctb-race-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Concurrent_appends_all_commit_once_with_contiguous_versions()
    {
        const int writers = 4, appends = 5, rowsEach = 10;
        var table = DeltaTable.At(Path.Combine(_folder, "events"));
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            using var db = DuckDb.Open();
            var writer = new DeltaWriter(db);
            for (var i = 0; i < appends; i++)
            {
                var first = (w * appends + i) * rowsEach;
                writer.Write(table, $"SELECT range::BIGINT AS id FROM range({first}, {first + rowsEach})", WriteMode.Append, "WRITE");
            }
        });

        var audit = LakeAudit.Table(_folder, "events");
        Assert.Empty(audit.Problems);
        Assert.Empty(audit.Leftovers);
        Assert.Equal(writers * appends - 1, audit.Latest);
        using var check = DuckDb.Open();
        using var cmd = check.CreateCommand();
        cmd.CommandText = $"SELECT count(*), count(DISTINCT id) FROM {table.Snapshot().ToDuckDbSql()}";
        using var r = cmd.ExecuteReader();
        r.Read();
        Assert.Equal(writers * appends * rowsEach, Convert.ToInt64(r.GetValue(0)));
        Assert.Equal(writers * appends * rowsEach, Convert.ToInt64(r.GetValue(1)));
    }
}
