using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Storage;

namespace CtBuild.Tuning.Benchmarks;

/// <summary>How the worker processes of one run were set to work.</summary>
public enum WorkerMode
{
    /// <summary>All of them on one study, free to use every core: what running more workers on this machine gives.</summary>
    Shared,
    /// <summary>All of them on one study, worker i held to core i, as on one-core machines.</summary>
    Pinned,
    /// <summary>Each on a study of its own with every trial, nothing shared: the machine's ceiling for this many
    /// processes of this work, with no coordination at all.</summary>
    Independent,
}

/// <summary>
/// One run: how long until every worker process had exited, and the span from the first trial's claim to the last
/// trial's finish (the part more workers share; each process's start-up and data load is not in it).
/// </summary>
public sealed record WorkerRun(int Workers, double Seconds, double TrialSpanSeconds, int Trials, int DistinctWorkers, WorkerMode Mode = WorkerMode.Shared);

/// <summary>What <see cref="WorkerScalingBenchmark"/> measured.</summary>
public sealed record WorkerScalingResult(int Trials, IReadOnlyList<WorkerRun> Runs, int OverheadStudySize, double OverheadMilliseconds, string Storage,
    long? Rows = null)
{
    public string Format()
    {
        var text = new StringBuilder();
        var data = Rows is { } n ? $"{n:N0} rows drawn from the workspace's raw files" : "the workspace's raw files";
        text.AppendLine(CultureInfo.InvariantCulture, $"The same {Trials}-trial study on {data} (random sampler, one seed: the same trials every time) on {Storage}, each worker a `ctb tune worker --threads 1` process:");
        var one = Runs.First(r => r.Mode == WorkerMode.Shared);
        foreach (var mode in Runs.GroupBy(r => r.Mode))
        {
            text.AppendLine(mode.Key switch
            {
                WorkerMode.Shared => " One study, workers free to use every core (what more workers on this machine give):",
                WorkerMode.Pinned => " One study, worker i held to core i (taskset), as on one-core machines; LightGBM's threads and the JIT stay on that core:",
                _ => $" Ceiling: N workers each on a {Trials}-trial study of its own, nothing shared; speed-up = N x the 1-worker time / this time:",
            });
            var baseline = mode.Key == WorkerMode.Independent ? one : mode.First();
            foreach (var run in mode)
            {
                var scale = mode.Key == WorkerMode.Independent ? run.Workers : 1;
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"  {run.Workers} worker(s): {run.Seconds,7:0.0} s wall, speed-up {scale * baseline.Seconds / run.Seconds:0.00}x; first claim to last finish {run.TrialSpanSeconds,7:0.0} s, " +
                    $"speed-up {scale * baseline.TrialSpanSeconds / run.TrialSpanSeconds:0.00}x  ({run.Trials} trials, {run.DistinctWorkers} process(es) ran them)");
            }
        }
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Storage overhead per trial (claim with a read of every trial, heartbeat, finish) in a study of {OverheadStudySize} trials: {OverheadMilliseconds:0.00} ms");
        return text.ToString();
    }
}

/// <summary>
/// <c>ctb bench workers</c>: the same study run by 1, 2, … worker processes on one study storage (PostgreSQL), and the
/// storage's own cost per trial. It makes a scratch copy of the workspace (config, features SQL, raw files) whose Tune
/// is set to the random sampler, so every run trains the very same trials and only the number of workers differs.
/// With <c>rows</c>, the scratch workspace's raw data is that many rows drawn in turn from the workspace's raw CSV
/// files, each with a fresh key: trials as long as on a bigger dataset, where the fixed costs of a worker process (start,
/// JIT, data load) weigh less.
/// Each count above one also runs as N independent studies (the baseline: what this machine gives N processes of this
/// work with nothing shared), and with <c>pin</c> with worker i held to core i (one-core machines on one box: a free
/// worker's LightGBM threads and JIT spill onto the other core, so one free worker is already ~1.2 cores).
/// </summary>
public static class WorkerScalingBenchmark
{
    /// <param name="startWorker">Starts <c>ctb</c> with these arguments in this folder, held to the given core when one is
    /// given (the CLI knows how to start itself).</param>
    public static WorkerScalingResult Run(Workspace ws, string storage, IReadOnlyList<int> workerCounts, int trials,
        Func<string, IReadOnlyList<string>, int?, Process> startWorker, IProgress<string>? log = null, long? rows = null, bool pin = false)
    {
        var scratch = Directory.CreateTempSubdirectory("ctb-bench-workers-").FullName;
        try
        {
            var copy = ScratchWorkspace(ws, scratch, trials, rows);
            var context = new StageContext(copy, new MemoryLog(), new RunOptions());
            foreach (var stage in PipelineDefinition.UpTo("split")) StageRunner.Run(stage, context);
            log?.Report($"scratch workspace ready in {scratch}");

            using var server = PostgresStudyStorage.Open(storage);
            var runs = new List<WorkerRun>();
            var tag = Guid.NewGuid().ToString("N")[..8];
            // Modes alternate within each worker count, so the ratios compare minutes of the same machine (its speed drifts).
            var modes = pin ? new[] { WorkerMode.Shared, WorkerMode.Pinned, WorkerMode.Independent } : [WorkerMode.Shared, WorkerMode.Independent];
            foreach (var count in workerCounts)
            foreach (var mode in modes.Where(m => m != WorkerMode.Independent || count > 1))
            {
                var prefix = $"bench-{tag}-w{count}-{mode.ToString().ToLowerInvariant()}";
                var studies = Enumerable.Range(0, count).Select(i => mode == WorkerMode.Independent ? $"{prefix}-{i}" : prefix).ToList();
                var clock = Stopwatch.StartNew();
                var processes = studies.Select((study, i) => (study, process: startWorker(scratch,
                    ["tune", "worker", "--storage", storage, "--study", study, "--threads", "1"],
                    mode == WorkerMode.Pinned ? i % Environment.ProcessorCount : null))).ToList();
                foreach (var (study, p) in processes)
                {
                    p.WaitForExit();
                    if (p.ExitCode != 0) throw new CtBuildException($"A benchmark worker exited {p.ExitCode}; run `ctb tune worker --storage … --study {study}` in {scratch} to see why.");
                }
                var seconds = clock.Elapsed.TotalSeconds;
                var done = studies.Distinct().SelectMany(server.Trials).ToList();
                var span = (done.Max(t => t.Start + (t.Duration ?? TimeSpan.Zero)) - done.Min(t => t.Start)).TotalSeconds;
                runs.Add(new WorkerRun(count, seconds, span, done.Count, done.Select(t => t.Worker).Distinct().Count(), mode));
                log?.Report($"{count} worker(s), {mode.ToString().ToLowerInvariant()}: {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
                foreach (var study in studies.Distinct()) server.DeleteStudy(study);
            }
            var (size, ms) = Overhead(server, tag);
            return new WorkerScalingResult(trials, runs, size, ms, server.Url.ToString(), rows);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Mean cost of one trial's storage calls once the study already holds <c>500</c> trials.</summary>
    static (int Size, double Milliseconds) Overhead(PostgresStudyStorage server, string tag)
    {
        const int size = 500, measured = 100;
        var name = $"bench-{tag}-overhead";
        server.CreateOrJoin(new StudyIdentity(name, StudyDirection.Maximize, new Dictionary<string, string> { ["bench"] = tag }));
        var finish = new TrialFinish(TrialState.Complete, 0.5, new Dictionary<string, double> { ["logloss"] = 0.4 }, null, TimeSpan.FromSeconds(1), 1);
        var parameters = new Dictionary<string, object> { ["trainer"] = "LightGbm", ["numberOfLeaves"] = 31, ["learningRate"] = 0.1 };
        void OneTrial()
        {
            var trial = server.Claim(name, Tracking.ProcessOwner.Current, trials => trials.Count >= 0 ? new TrialProposal(parameters) : null)!;
            server.Heartbeat(name, trial.Number);
            server.Finish(name, trial.Number, finish);
        }
        for (var i = 0; i < size; i++) OneTrial();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < measured; i++) OneTrial();
        var ms = clock.Elapsed.TotalMilliseconds / measured;
        server.DeleteStudy(name);
        return (size, ms);
    }

    static Workspace ScratchWorkspace(Workspace ws, string scratch, int trials, long? rows)
    {
        var config = JsonNode.Parse(File.ReadAllText(ws.ConfigPath), documentOptions: new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true,
        })!.AsObject();
        config.Remove("environments");
        config.Remove("paths");
        var tune = config["tune"]!.AsObject();
        tune["sampler"] = "random";
        tune["maxEvals"] = trials;
        tune["parallelism"] = 1;
        foreach (var key in new[] { "timeBudget", "earlyStopping", "storage" }) tune.Remove(key);
        File.WriteAllText(Path.Combine(scratch, "ctbuild.json"), config.ToJsonString());

        var sql = ws.Config.Features.Sql;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(scratch, sql))!);
        File.Copy(ws.Resolve(sql), Path.Combine(scratch, sql));
        var raw = Path.Combine(scratch, "data", "raw");
        Directory.CreateDirectory(raw);
        var files = Directory.EnumerateFiles(ws.RawDir).Order(StringComparer.Ordinal).ToList();
        if (rows is { } n) WriteRows(ws, files, Path.Combine(raw, "rows.csv"), n);
        else foreach (var file in files) File.Copy(file, Path.Combine(raw, Path.GetFileName(file)));
        return Workspace.Load(Path.Combine(scratch, "ctbuild.json"), null);
    }

    /// <summary>The raw rows again and again, values as delivered, until there are <paramref name="rows"/>; the key is the row's number.</summary>
    internal static void WriteRows(Workspace ws, IReadOnlyList<string> files, string output, long rows)
    {
        var csv = files.Where(f => f.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".csv.gz", StringComparison.OrdinalIgnoreCase)).ToList();
        if (csv.Count == 0 || csv.Count != files.Count)
            throw new ConfigException($"--rows draws rows from raw CSV files, but {ws.RawDir} holds {(csv.Count == 0 ? "none" : "other files too")}; run the benchmark without --rows.");
        using var db = DuckDb.Open();
        var source = $"read_csv([{string.Join(", ", csv.Select(DuckDb.Literal))}], header = true, all_varchar = true, union_by_name = true)";
        var count = db.Scalar<long>($"SELECT count(*) FROM {source}");
        if (count == 0) throw new ConfigException($"--rows draws rows from the raw files in {ws.RawDir}, but they hold no rows.");
        var copies = (rows + count - 1) / count;
        var key = ws.Config.Ingest.Key is { } k ? $" REPLACE (CAST(row_number() OVER () AS VARCHAR) AS {DuckDb.Ident(k)})" : "";
        db.Exec($"COPY (SELECT *{key} FROM (SELECT t.* FROM range({copies}) copies, {source} t ORDER BY copies.range) LIMIT {rows}) " +
                $"TO {DuckDb.Literal(output)} (HEADER, DELIMITER ',')");
    }
}
