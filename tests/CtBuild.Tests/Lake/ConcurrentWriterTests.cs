using CtBuild.Lake;

namespace CtBuild.Tests.Lake;

/// <summary>Real concurrent writers (tasks, each with its own DuckDB connection) on one table.</summary>
public sealed class ConcurrentWriterTests
{
    private static DeltaTable NewTable(TempFolder tmp, Db db)
    {
        var t = DeltaTable.At(tmp.Sub("t"));
        new DeltaWriter(db.Connection).Write(t, "SELECT 'seed' AS writer, range AS n FROM range(10)", WriteMode.Append, "WRITE");
        return t;
    }

    /// <summary>Runs a full write of another writer on another thread, right before the first commit attempt.</summary>
    private static Action<long> CompetitorCommitsFirst(DeltaTable t, string sql, WriteMode mode)
    {
        bool done = false;
        return _ =>
        {
            if (done) return;
            done = true;
            Task.Run(() =>
            {
                using var other = new Db();
                new DeltaWriter(other.Connection).Write(t, sql, mode, "WRITE");
            }).Wait();
        };
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="count"/> dedicated threads released at the same moment.</summary>
    private static List<T> RunTogether<T>(int count, Func<int, T> body)
    {
        using var start = new Barrier(count);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return body(i);
        }, TaskCreationOptions.LongRunning)).ToList();
        return tasks.Select(t => t.Result).ToList();
    }

    [Fact]
    public void Append_that_loses_the_race_retries_on_top_of_the_winner()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = NewTable(tmp, db);
        var writer = new DeltaWriter(db.Connection)
        {
            BeforeCommitAttempt = CompetitorCommitsFirst(t, "SELECT 'b' AS writer, 1::BIGINT AS n", WriteMode.Append),
        };
        var result = writer.Write(t, "SELECT 'a' AS writer, 2::BIGINT AS n", WriteMode.Append, "WRITE");
        Assert.Equal(2L, result.Version);
        Assert.Equal(2L, t.LatestVersion());
        Assert.Equal(["a", "b", "seed"], db.Rows($"SELECT DISTINCT writer FROM {t.Snapshot().ToDuckDbSql()} ORDER BY 1").Select(r => (string)r[0]!));
    }

    [Fact]
    public void Overwrite_that_loses_the_race_throws_and_leaves_the_winner_intact()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = NewTable(tmp, db);
        var writer = new DeltaWriter(db.Connection)
        {
            BeforeCommitAttempt = CompetitorCommitsFirst(t, "SELECT 'b' AS writer, 1::BIGINT AS n", WriteMode.Append),
        };
        var e = Assert.Throws<DeltaConflictException>(() =>
            writer.Write(t, "SELECT 'a' AS writer, 2::BIGINT AS n", WriteMode.Overwrite, "WRITE"));
        Assert.Contains(t.Folder, e.Message);
        Assert.Contains("version 1 was committed by another writer", e.Message);
        Assert.Contains("Re-run", e.Message);
        Assert.Equal(1L, t.LatestVersion());
        Assert.Equal(11L, db.Count(t.Snapshot()));
        Assert.Equal(2, Directory.GetFiles(t.Folder, "*.parquet").Length); // the loser's data file is gone
    }

    [Fact]
    public void Overwrite_with_retry_wins_and_removes_what_the_winner_added()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = NewTable(tmp, db);
        var writer = new DeltaWriter(db.Connection)
        {
            RetryOverwriteOnConflict = true,
            BeforeCommitAttempt = CompetitorCommitsFirst(t, "SELECT 'b' AS writer, 1::BIGINT AS n", WriteMode.Append),
        };
        var result = writer.Write(t, "SELECT 'a' AS writer, 2::BIGINT AS n", WriteMode.Overwrite, "WRITE");
        Assert.Equal(2L, result.Version);
        Assert.Equal(["a"], db.Rows($"SELECT writer FROM {t.Snapshot().ToDuckDbSql()}").Select(r => (string)r[0]!));
        Assert.Equal(11L, db.Count(t.Snapshot(1)));
    }

    [Fact]
    public void Append_loses_to_a_schema_change_and_says_so()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = NewTable(tmp, db);
        var writer = new DeltaWriter(db.Connection)
        {
            BeforeCommitAttempt = CompetitorCommitsFirst(t, "SELECT 1.5 AS score", WriteMode.Overwrite),
        };
        var e = Assert.Throws<DeltaConflictException>(() => writer.Write(t, "SELECT 'a' AS writer, 2::BIGINT AS n", WriteMode.Append, "WRITE"));
        Assert.Contains("metadata", e.Message);
    }

    [Fact]
    public void Racing_appends_all_commit_at_distinct_contiguous_versions()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = NewTable(tmp, db);
        const int writers = 4, writesEach = 4;
        var results = RunTogether(writers, w =>
        {
            using var own = new Db();
            var writer = new DeltaWriter(own.Connection);
            return Enumerable.Range(0, writesEach)
                .Select(i => writer.Write(t, $"SELECT 'w{w}' AS writer, {i}::BIGINT AS n", WriteMode.Append, "WRITE")).ToList();
        }).SelectMany(r => r).ToList();

        Assert.All(results, r => Assert.True(r.Committed));
        Assert.Equal(Enumerable.Range(1, writers * writesEach).Select(v => (long)v), results.Select(r => r.Version).Order());
        Assert.Equal(writers * writesEach, t.LatestVersion());
        Assert.Equal(10L + writers * writesEach, db.Count(t.Snapshot()));
        Assert.Equal(10L + writers * writesEach, t.Snapshot().RowCount);
    }

    [Fact]
    public void Racing_overwrites_leave_exactly_one_writers_rows()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = NewTable(tmp, db);
        const int writers = 4;
        var outcomes = RunTogether(writers, w =>
        {
            using var own = new Db();
            try
            {
                return (w, (long?)new DeltaWriter(own.Connection)
                    .Write(t, $"SELECT 'w{w}' AS writer, range AS n FROM range({w + 1})", WriteMode.Overwrite, "WRITE").Version);
            }
            catch (DeltaConflictException) { return (w, (long?)null); }
        });

        var committed = outcomes.Where(o => o.Item2 != null).ToList();
        Assert.NotEmpty(committed);
        Assert.Equal(committed.Count, committed.Select(o => o.Item2).Distinct().Count());
        Assert.Equal((long)committed.Count, t.LatestVersion());
        var last = committed.MaxBy(o => o.Item2).w;
        var rows = db.Rows($"SELECT writer, n FROM {t.Snapshot().ToDuckDbSql()} ORDER BY n");
        Assert.Equal(Enumerable.Range(0, last + 1).Select(n => $"w{last}:{n}"), rows.Select(r => $"{r[0]}:{r[1]}"));
        // Every committed version is whole: one writer's rows, never a mix.
        for (long v = 1; v <= t.LatestVersion(); v++)
            Assert.Equal(1L, db.Scalar($"SELECT count(DISTINCT writer) FROM {t.Snapshot(v).ToDuckDbSql()}"));
    }

    [Fact]
    public void Racing_creators_of_a_new_table_with_the_same_schema_both_commit()
    {
        using var tmp = new TempFolder();
        var t = DeltaTable.At(tmp.Sub("new"));
        var versions = RunTogether(3, w =>
        {
            using var own = new Db();
            return new DeltaWriter(own.Connection).Write(t, $"SELECT 'w{w}' AS writer, {w}::BIGINT AS n", WriteMode.Append, "WRITE").Version;
        });
        Assert.Equal([0L, 1L, 2L], versions.Order());
        using var db = new Db();
        Assert.Equal(3L, db.Count(t.Snapshot()));
        Assert.Single(Enumerable.Range(0, 3), v => File.ReadAllText(Path.Combine(t.Folder, "_delta_log", $"{v:D20}.json")).Contains("\"metaData\""));
    }

    [Fact]
    public void Only_one_of_many_threads_creates_a_commit_file_and_its_content_is_whole()
    {
        using var tmp = new TempFolder();
        var contents = Enumerable.Range(0, 8).Select(i => string.Concat(Enumerable.Repeat($"{{\"writer\":{i}}}\n", 2000))).ToList();
        var won = RunTogether(8, i => CommitFile.TryCreate(tmp.Path, 5, contents[i]));
        Assert.Single(won, w => w);
        var winner = won.IndexOf(true);
        Assert.Equal(contents[winner], File.ReadAllText(Path.Combine(tmp.Path, "_delta_log", "00000000000000000005.json")));
        Assert.Single(Directory.GetFiles(Path.Combine(tmp.Path, "_delta_log"))); // no temp files left behind
    }
}
