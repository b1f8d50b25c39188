using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CtBuild.Configuration;
using CtBuild.Pipeline;

namespace CtBuild.Tuning.Benchmarks;

/// <summary>
/// One worker count's run of the study: how long until every worker process had exited, and the span from the first
/// trial's claim to the last trial's finish (the part more workers share; each process's start-up and data load is not in it).
/// </summary>
public sealed record WorkerRun(int Workers, double Seconds, double TrialSpanSeconds, int Trials, int DistinctWorkers);

/// <summary>What <see cref="WorkerScalingBenchmark"/> measured.</summary>
public sealed record WorkerScalingResult(int Trials, IReadOnlyList<WorkerRun> Runs, int OverheadStudySize, double OverheadMilliseconds, string Storage)
{
    public string Format()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"The same {Trials}-trial study (random sampler, one seed: the same trials every time) on {Storage}, each worker a `ctb tune worker --threads 1` process:");
        var baseline = Runs[0];
        foreach (var run in Runs)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {run.Workers} worker(s): {run.Seconds,7:0.0} s wall, speed-up {baseline.Seconds / run.Seconds:0.00}x; first claim to last finish {run.TrialSpanSeconds,7:0.0} s, " +
                $"speed-up {baseline.TrialSpanSeconds / run.TrialSpanSeconds:0.00}x  ({run.Trials} trials, {run.DistinctWorkers} process(es) ran them)");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Storage overhead per trial (claim with a read of every trial, heartbeat, finish) in a study of {OverheadStudySize} trials: {OverheadMilliseconds:0.00} ms");
        return text.ToString();
    }
}

/// <summary>
/// <c>ctb bench workers</c>: the same study run by 1, 2, … worker processes on one study storage (PostgreSQL), and the
/// storage's own cost per trial. It makes a scratch copy of the workspace (config, features SQL, raw files) whose Tune
/// is set to the random sampler, so every run trains the very same trials and only the number of workers differs.
/// </summary>
public static class WorkerScalingBenchmark
{
    /// <param name="startWorker">Starts <c>ctb</c> with these arguments in this folder (the CLI knows how to start itself).</param>
    public static WorkerScalingResult Run(Workspace ws, string storage, IReadOnlyList<int> workerCounts, int trials,
        Func<string, IReadOnlyList<string>, Process> startWorker, IProgress<string>? log = null)
    {
        var scratch = Directory.CreateTempSubdirectory("ctb-bench-workers-").FullName;
        try
        {
            var copy = ScratchWorkspace(ws, scratch, trials);
            var context = new StageContext(copy, new MemoryLog(), new RunOptions());
            foreach (var stage in PipelineDefinition.UpTo("split")) StageRunner.Run(stage, context);
            log?.Report($"scratch workspace ready in {scratch}");

            using var server = PostgresStudyStorage.Open(storage);
            var runs = new List<WorkerRun>();
            var tag = Guid.NewGuid().ToString("N")[..8];
            foreach (var count in workerCounts)
            {
                var study = $"bench-{tag}-w{count}";
                var clock = Stopwatch.StartNew();
                var processes = Enumerable.Range(0, count)
                    .Select(_ => startWorker(scratch, ["tune", "worker", "--storage", storage, "--study", study, "--threads", "1"])).ToList();
                foreach (var p in processes)
                {
                    p.WaitForExit();
                    if (p.ExitCode != 0) throw new CtBuildException($"A benchmark worker exited {p.ExitCode}; run `ctb tune worker --storage … --study {study}` in {scratch} to see why.");
                }
                var seconds = clock.Elapsed.TotalSeconds;
                var done = server.Trials(study);
                var span = (done.Max(t => t.Start + (t.Duration ?? TimeSpan.Zero)) - done.Min(t => t.Start)).TotalSeconds;
                runs.Add(new WorkerRun(count, seconds, span, done.Count, done.Select(t => t.Worker).Distinct().Count()));
                log?.Report($"{count} worker(s): {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
                server.DeleteStudy(study);
            }
            var (size, ms) = Overhead(server, tag);
            return new WorkerScalingResult(trials, runs, size, ms, server.Url.ToString());
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

    static Workspace ScratchWorkspace(Workspace ws, string scratch, int trials)
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
        foreach (var file in Directory.EnumerateFiles(ws.RawDir)) File.Copy(file, Path.Combine(raw, Path.GetFileName(file)));
        return Workspace.Load(Path.Combine(scratch, "ctbuild.json"), null);
    }
}
