using System.Text.Json;
using CtBuild.Lake;
using CtBuild.Tracking;
using DuckDB.NET.Data;
using Xunit.Abstractions;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// While a <c>ctb run</c> process writes a new delivery through every stage, readers — in this process and
/// as <c>ctb runs list</c> / <c>ctb lake show</c> processes — keep working and see the old state or the new
/// one, never a mix: a table's rows always match one version's row count, the report index always parses.
/// </summary>
[Trait("Category", "CrashSafety")]
public sealed class ReadersDuringWriteTests(ITestOutputHelper output)
{
    const int NewRows = 300;

    [Fact]
    public void Readers_see_the_old_or_the_new_state_while_a_pipeline_writes()
    {
        using var ws = new CrashWorkspace();
        Assert.Equal(0, ws.Ctb(["run"]).ExitCode);
        ws.AddDelivery("batch-3.csv", NewRows, firstId: 5_001);
        var before = CrashWorkspace.GoodRows;
        var after = CrashWorkspace.GoodRows + NewRows;

        using var writer = ws.StartCtb(["run"]);
        var seen = new List<string>();
        var problems = new List<string>();
        List<ChildRead> children = [];
        var childReads = new Thread(() => children = ReadWithCtb(ws, writer, before, after)); // not the pool: it blocks for seconds
        childReads.Start();
        var reads = 0;
        while (!writer.HasExited)
        {
            try
            {
                foreach (var (table, rows) in new[] { ("raw", TableRows(ws, "raw")), ("features", TableRows(ws, "features")) })
                    if (rows.Version is not (0 or 1) || rows.Counted != rows.Recorded || rows.Counted != (rows.Version == 0 ? before : after))
                        problems.Add($"{table} v{rows.Version}: {rows.Counted} rows read, {rows.Recorded} recorded");
                    else seen.Add($"{table} v{rows.Version}");
                TrackingStore.Open(Path.Combine(ws.Root, ".ctb", "tracking"), readOnly: true).ListRuns();
                var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(ws.Root, "reports", "index.json"))).RootElement.GetArrayLength();
                if (index is not (1 or 2)) problems.Add($"the report index lists {index} runs");
                reads++;
            }
            catch (Exception ex) { problems.Add($"a read failed: {ex.GetType().Name}: {ex.Message}"); }
        }
        var finished = writer.WaitForExit(TimeSpan.FromSeconds(60));
        childReads.Join();

        output.WriteLine($"{reads} in-process reads, {children.Count} ctb reader processes during the write; seen: " +
                         string.Join(", ", seen.Distinct()));
        Assert.Equal(0, finished.ExitCode);
        Assert.True(reads > 5, $"only {reads} reads happened while the pipeline wrote");
        Assert.Empty(problems);
        Assert.All(children, c => Assert.True(c.Ok, c.Detail));
        Assert.Contains("raw v1", seen.Concat(children.Select(c => c.Detail))); // the new state became visible mid-run
    }

    sealed record ChildRead(bool Ok, string Detail);

    /// <summary><c>ctb lake show raw</c> and <c>ctb runs list</c> as separate processes until the writer ends.</summary>
    static List<ChildRead> ReadWithCtb(CrashWorkspace ws, CtbProcess writer, int before, int after)
    {
        var results = new List<ChildRead>();
        while (!writer.HasExited)
        {
            var show = ws.Ctb(["lake", "show", "raw", "--limit", "0", "--json"]);
            if (show.ExitCode != 0) { results.Add(new(false, $"ctb lake show failed: {show.Output}")); continue; }
            var json = JsonDocument.Parse(show.StdOut).RootElement;
            var (version, count) = (json.GetProperty("version").GetInt64(), json.GetProperty("rowCount").GetInt64());
            results.Add(new(count == (version == 0 ? before : after), $"raw v{version}"));
            var runs = ws.Ctb(["runs", "list", "--json"]);
            results.Add(new(runs.ExitCode == 0 && JsonDocument.Parse(runs.StdOut).RootElement.GetArrayLength() > 0, $"ctb runs list: exit {runs.ExitCode}"));
        }
        return results;
    }

    /// <summary>The latest snapshot's recorded row count and the rows DuckDB actually reads from its files.</summary>
    static (long Version, long Recorded, long Counted) TableRows(CrashWorkspace ws, string table)
    {
        var snapshot = DeltaTable.At(Path.Combine(ws.LakeDir, table)).Snapshot();
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM {snapshot.ToDuckDbSql()}";
        return (snapshot.Version, snapshot.RowCount, Convert.ToInt64(cmd.ExecuteScalar()));
    }
}
