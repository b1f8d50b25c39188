using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CtBuild.Lake.Benchmarks;

/// <summary>
/// Opening one table after <see cref="Appends"/> one-file appends: the median time of <see cref="DeltaTable.Snapshot"/>
/// by full log replay (no checkpoint) and from the newest checkpoint (at <see cref="CheckpointVersion"/>, with the
/// commits after it), plus what writing that checkpoint cost.
/// </summary>
/// <remarks>The CPU figures are the process's CPU time per open (all threads): on a shared machine they move far less than wall time.</remarks>
public sealed record SnapshotTiming(int Appends, int LiveFiles, long CheckpointVersion, TimeSpan WithoutCheckpoint,
    TimeSpan WithCheckpoint, TimeSpan CheckpointWrite, TimeSpan WithoutCheckpointCpu, TimeSpan WithCheckpointCpu)
{
    public double SpeedUp => WithCheckpoint.TotalMilliseconds == 0 ? double.NaN : WithoutCheckpoint.TotalMilliseconds / WithCheckpoint.TotalMilliseconds;
}

/// <param name="LoadAverage">1, 5 and 15-minute load averages before the run (Linux): shared cores skew wall times.</param>
public sealed record LakeSnapshotFigures(IReadOnlyList<SnapshotTiming> Rows, int Repetitions, int Cores, string LoadAverage)
{
    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.AppendLine($"Lake snapshot benchmark: median of {Repetitions} opens, {Cores} cores, load average {LoadAverage}");
        b.AppendLine("appends  live files  checkpoint at  full replay (cpu)        from checkpoint (cpu)    speed-up  checkpoint write");
        foreach (var r in Rows)
            b.AppendLine(string.Create(c, $"{r.Appends,7:N0}  {r.LiveFiles,10:N0}  {"v" + r.CheckpointVersion,13}  {r.WithoutCheckpoint.TotalMilliseconds,8:N1} ms ({r.WithoutCheckpointCpu.TotalMilliseconds,7:N1} ms)  {r.WithCheckpoint.TotalMilliseconds,8:N1} ms ({r.WithCheckpointCpu.TotalMilliseconds,6:N1} ms)  {r.SpeedUp,7:N1}x  {r.CheckpointWrite.TotalMilliseconds,13:N1} ms"));
        return b.ToString().TrimEnd();
    }
}

/// <summary>
/// Builds tables of many appends and times opening them with and without a checkpoint. Version 0 is a real
/// <see cref="DeltaWriter"/> write; versions 1..N-1 are the writer's own append commits (<see cref="DeltaWriter.CommitText"/>)
/// over copies of that data file, since running N full writes (a DuckDB COPY and a digest each) would take the
/// benchmark's time without changing the log it measures. The checkpoint is the newest one interval 10
/// leaves, written by the real <see cref="CheckpointWriter"/>, so the read replays the 9 commits after it (the worst case).
/// </summary>
public static class LakeSnapshotBenchmark
{
    public static LakeSnapshotFigures Run(IReadOnlyList<int> appends, int repetitions, string scratch, IProgress<string>? log = null)
    {
        var load = File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        var rows = new List<SnapshotTiming>();
        foreach (var n in appends)
        {
            if (n < 11) throw new ArgumentOutOfRangeException(nameof(appends), "Use at least 11 appends, so there is a checkpoint to read from.");
            var folder = Path.Combine(scratch, $"appends-{n}");
            log?.Report($"bench lake: writing {n:N0} appends");
            var state = BuildAppends(folder, n);
            var table = DeltaTable.At(folder);

            log?.Report($"bench lake: {n:N0} appends, opening by full replay");
            var (without, withoutCpu) = Median(repetitions, () => table.Snapshot());
            var checkpointVersion = (n - 1) / 10 * 10;
            var replayedAtCheckpoint = LogReplay.Replay(DeltaLogFolder.List(folder), checkpointVersion, useCheckpoints: false);
            var write = Stopwatch.StartNew();
            CheckpointWriter.Write(folder, replayedAtCheckpoint, DateTimeOffset.UtcNow);
            write.Stop();
            log?.Report($"bench lake: {n:N0} appends, opening from the checkpoint at v{checkpointVersion}");
            var (with, withCpu) = Median(repetitions, () => table.Snapshot());
            var a = DeltaTable.At(folder).Snapshot();
            if (a.Files.Count != state || a.Version != n - 1)
                throw new InvalidOperationException($"The table read from its checkpoint has {a.Files.Count} files at v{a.Version}; expected {state} at v{n - 1}.");
            rows.Add(new SnapshotTiming(n, state, checkpointVersion, without, with, write.Elapsed, withoutCpu, withCpu));
            Directory.Delete(folder, recursive: true);
        }
        return new LakeSnapshotFigures(rows, repetitions, Environment.ProcessorCount, load);
    }

    /// <summary>Writes versions 0..n-1, one added file each; returns the live file count.</summary>
    private static int BuildAppends(string folder, int n)
    {
        var table = DeltaTable.At(folder);
        using (var connection = DuckDbQuery.OpenInMemory())
            new DeltaWriter(connection) { CheckpointInterval = 0 }.Write(table, "SELECT 1::BIGINT AS id, 'first' AS name", WriteMode.Append, "WRITE");
        var log = DeltaLogFolder.List(folder);
        var first = LogReplay.Replay(log, 0);
        var template = first.LiveFiles[0];
        var templatePath = Path.Combine(folder, template.Path);
        for (long v = 1; v < n; v++)
        {
            var name = $"part-00000-{Guid.NewGuid()}-c000.snappy.parquet";
            File.Copy(templatePath, Path.Combine(folder, name));
            var file = new DeltaWriter.NewFile(name, template.Size, 1, template.Stats!, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var read = first with { Version = v - 1 };
            var text = DeltaWriter.CommitText(read, null, WriteMode.Append, [], [file], dataChange: true, "WRITE", null, null, null, null);
            if (!CommitFile.TryCreate(folder, v, text)) throw new InvalidOperationException($"Version {v} of {folder} already exists.");
        }
        return n;
    }

    /// <summary>Median wall time and median process CPU time of the action, after one warm-up (JIT, file cache).</summary>
    private static (TimeSpan Wall, TimeSpan Cpu) Median(int repetitions, Action action)
    {
        action();
        var walls = new List<TimeSpan>();
        var cpus = new List<TimeSpan>();
        using var self = Process.GetCurrentProcess();
        for (int i = 0; i < repetitions; i++)
        {
            self.Refresh();
            var cpu = self.TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            action();
            walls.Add(watch.Elapsed);
            self.Refresh();
            cpus.Add(self.TotalProcessorTime - cpu);
        }
        return (walls.Order().ElementAt(walls.Count / 2), cpus.Order().ElementAt(cpus.Count / 2));
    }
}
