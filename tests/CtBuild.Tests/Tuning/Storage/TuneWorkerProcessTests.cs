using System.Diagnostics;
using System.Text.Json;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Tuning.Storage;

/// <summary>
/// Tuning on many workers as users run it: real <c>ctb tune worker</c> processes and the real Tune stage on one study in
/// a real PostgreSQL server, with the URL in CTB_TUNE_STORAGE and the password in PGPASSWORD, as the README says.
/// </summary>
public sealed class TuneWorkerProcessTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    static string Config(int maxEvals) => $$"""
        {
          "name": "small-model",
          "ingest": {
            "key": "id",
            "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
            "columns": {
              "id":    { "type": "int", "nullable": false },
              "age":   { "type": "int" },
              "city":  { "type": "string" },
              "score": { "type": "double" },
              "label": { "type": "string", "nullable": false }
            }
          },
          "features": { "sql": "features/features.sql", "exclude": ["id"] },
          "split": { "key": "id" },
          "tune": {
            "maxEvals": {{maxEvals}}, "parallelism": 1, "sampler": "random", "heartbeatTimeout": "20s",
            "space": { "trainer": { "choice": { "LightGbm": { "numberOfLeaves": "int(8, 32)", "numberOfIterations": "int(100, 200)" } } } }
          },
          "evaluate": { "resamples": 200, "minAuc": 0.5 }
        }
        """;

    (TempWorkspace Workspace, string Database, Dictionary<string, string> Env) Prepare(int maxEvals, int rows = 3000)
    {
        var ws = new TempWorkspace().WithConfig(Config(maxEvals)).WithFeaturesSql(SmallConfig.FeaturesSql);
        ws.WriteRaw("batch-1.csv", SmallConfig.Rows(rows));
        var db = server.NewDatabase();
        var env = new Dictionary<string, string> { ["CTB_TUNE_STORAGE"] = server.Url(db), ["PGPASSWORD"] = PostgresServer.Password };
        var split = Ctb(ws.Root, ["run", "--to", "split"], env);
        Assert.True(split.ExitCode == 0, split.Output);
        return (ws, db, env);
    }

    static CtbResult Finish(CtbProcess process, string what)
    {
        var result = process.WaitForExit(TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, $"{what} exited {result.ExitCode}:\n{result.Output}");
        return result;
    }

    // Longer than CtbProcess.Run's limit: the machine running the suite may be busy.
    static CtbResult Ctb(string root, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env)
    {
        using var process = CtbProcess.Start(root, args, env);
        return process.WaitForExit(TimeSpan.FromMinutes(5));
    }

    // Zero until the first worker has set up the schema.
    long Count(string db, string where = "true") => server.Sql(db, "SELECT to_regclass('ctb_trials')::text") is not string ? 0
        : (long)server.Sql(db, $"SELECT count(*) FROM ctb_trials WHERE {where}")!;

    [PostgresFact]
    public void Three_worker_processes_and_the_Tune_stage_complete_one_study_with_no_trial_run_twice()
    {
        var (ws, db, env) = Prepare(maxEvals: 9);
        using var _ = ws;
        var workers = Enumerable.Range(0, 3).Select(_ => CtbProcess.Start(ws.Root, ["tune", "worker"], env)).ToList();
        var outputs = workers.Select((w, i) => Finish(w, $"worker {i}")).ToList();
        foreach (var w in workers) w.Dispose();

        Assert.Equal(9, Count(db));
        Assert.Equal(9L, server.Sql(db, "SELECT count(DISTINCT number) FROM ctb_trials"));
        Assert.Equal(8, (int)server.Sql(db, "SELECT max(number) FROM ctb_trials")!);
        Assert.Equal(9, Count(db, "state = 'Complete'"));
        // The trials really were shared: each process's first LightGbm fit takes seconds, so no one worker takes all.
        Assert.True((long)server.Sql(db, "SELECT count(DISTINCT claim->>'worker') FROM ctb_trials")! >= 2, string.Join("\n", outputs.Select(o => o.Output)));

        // A worker started after the budget is spent leaves at once, with nothing to do.
        var late = Ctb(ws.Root, ["tune", "worker", "--json"], env);
        Assert.True(late.ExitCode == 0, late.Output);
        using (var json = JsonDocument.Parse(late.StdOut))
            Assert.Equal("0", json.RootElement.GetProperty("outputs").GetProperty("trials.mine").GetString());
        Assert.Equal(9, Count(db));

        // The Tune stage joins the finished study: it trains no completed trial again and makes the best of all the candidate.
        var tune = Ctb(ws.Root, ["tune"], env);
        Assert.True(tune.ExitCode == 0, tune.Output);
        Assert.Equal(9, Count(db));
        var best = (double)server.Sql(db, "SELECT max((finish->>'value')::float8) FROM ctb_trials")!;
        using var candidate = JsonDocument.Parse(File.ReadAllText(Path.Combine(ws.Root, ".ctb", "candidate", "candidate.json")));
        Assert.Equal(best, candidate.RootElement.GetProperty("validAuc").GetDouble(), 12);
    }

    [PostgresFact]
    public void A_worker_killed_mid_trial_has_that_trial_retried_exactly_once_and_the_study_still_completes()
    {
        var (ws, db, env) = Prepare(maxEvals: 4);
        using var _ = ws;
        using (var doomed = CtbProcess.Start(ws.Root, ["tune", "worker"], env))
        {
            var clock = Stopwatch.StartNew();
            while (Count(db, $"state = 'Running' AND claim->>'worker' LIKE 'process {doomed.Id} %'") == 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "the first worker never started a trial:\n" + doomed.OutputSoFar);
                Thread.Sleep(100);
            }
            doomed.KillHard();
            doomed.WaitForExit(TimeSpan.FromSeconds(30));
        }
        var dead = (int)server.Sql(db, "SELECT number FROM ctb_trials WHERE state = 'Running'")!;

        using (var survivor = CtbProcess.Start(ws.Root, ["tune", "worker"], env)) Finish(survivor, "the second worker");

        Assert.Equal("Failed", server.Sql(db, $"SELECT state FROM ctb_trials WHERE number = {dead}"));
        Assert.StartsWith("abandoned:", (string)server.Sql(db, $"SELECT finish->>'error' FROM ctb_trials WHERE number = {dead}")!);
        Assert.Equal(1, Count(db, $"(claim->>'retryOf')::int = {dead}"));
        Assert.Equal(1L, server.Sql(db, $"SELECT count(*) FROM ctb_trials t WHERE (claim->>'retryOf')::int = {dead} " +
                                        $"AND t.claim->'params' = (SELECT claim->'params' FROM ctb_trials WHERE number = {dead})"));
        Assert.Equal(4, Count(db, "state = 'Complete'"));
        Assert.Equal(5, Count(db)); // four that count and the dead one
        Assert.Equal(0, Count(db, "state = 'Running'"));
    }

    [PostgresFact]
    public void Tune_stages_on_two_splits_versions_never_share_a_study_and_a_worker_cannot_join_the_other()
    {
        var (ws, db, env) = Prepare(maxEvals: 2, rows: 800);
        using var _ = ws;
        var first = Ctb(ws.Root, ["tune"], env);
        Assert.True(first.ExitCode == 0, first.Output);
        var oldStudy = (string)server.Sql(db, "SELECT name FROM ctb_studies")!;

        ws.WriteRaw("batch-2.csv", SmallConfig.Rows(400, firstId: 5001, seed: 2));
        var second = Ctb(ws.Root, ["run", "--to", "tune"], env);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Equal(2L, server.Sql(db, "SELECT count(*) FROM ctb_studies"));
        Assert.Equal(2, Count(db, $"study = '{oldStudy}'"));
        Assert.Equal(2, Count(db, $"study <> '{oldStudy}'"));

        // This workspace now has the next splits version: joining the old study by name is refused, naming what differs.
        var join = Ctb(ws.Root, ["tune", "worker", "--study", oldStudy], env);
        Assert.Equal(2, join.ExitCode);
        Assert.Contains($"Study '{oldStudy}'", join.Output);
        Assert.Contains("splits.version", join.Output);
        Assert.Equal(4, Count(db));
    }

    [PostgresFact]
    public void A_worker_given_a_bad_url_or_a_server_that_is_down_exits_2_naming_it()
    {
        var (ws, _, env) = Prepare(maxEvals: 2, rows: 400);
        using var _w = ws;
        var malformed = Ctb(ws.Root, ["tune", "worker", "--storage", "postgresql://127.0.0.1/ctb"], env);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("name the user", malformed.Output);

        var down = Ctb(ws.Root, ["tune", "worker", "--storage", "postgresql://ctb@127.0.0.1:1/ctb"], env);
        Assert.Equal(2, down.ExitCode);
        Assert.Contains("Cannot reach PostgreSQL at postgresql://ctb@127.0.0.1:1/ctb", down.Output);
        Assert.DoesNotContain(PostgresServer.Password, down.Output);
    }
}
