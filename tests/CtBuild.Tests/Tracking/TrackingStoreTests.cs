using CtBuild.Tracking;

namespace CtBuild.Tests.Tracking;

public class TrackingStoreTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly TrackingStore _store;

    public TrackingStoreTests() => _store = TrackingStore.Open(Path.Combine(_temp.Path, "tracking"));

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Run_round_trips_everything_logged()
    {
        var source = Path.Combine(_temp.Path, "model.zip");
        File.WriteAllBytes(source, [1, 2, 3, 4]);
        string parentId;
        using (var parent = _store.StartRun("income", "tune")) { parentId = parent.RunId; parent.End(RunStatus.Finished); }

        string id;
        using (var run = _store.StartRun("income", "trial-1", parentId, new Dictionary<string, string> { ["candidate"] = "true" },
                   new CodeVersion("abc123", Dirty: true)))
        {
            id = run.RunId;
            run.LogParam("trainer", "LightGbm");
            run.LogParam("learningRate", 0.1);
            run.LogMetric("auc", 0.80, step: 0);
            run.LogMetric("auc", 0.85, step: 1);
            run.LogMetric("logloss", 0.4);
            run.LogInput("features", 3, "sha256:feed");
            var artifact = run.LogArtifact("model.zip", source);
            run.LogArtifactText("plots/roc.json", "[[0,0],[1,1]]");
            Assert.Equal("9f64a747e1b97f131fabb6b447296c9b6f0201e79fb3c5356e6c77e89b6a806a", artifact.Sha256);
            run.End(RunStatus.Finished);
        }

        var record = _store.GetRun(id);
        Assert.Equal("income", record.Experiment);
        Assert.Equal("trial-1", record.Name);
        Assert.Equal(RunStatus.Finished, record.Status);
        Assert.NotNull(record.EndTime);
        Assert.Equal(parentId, record.ParentRunId);
        Assert.Equal(new CodeVersion("abc123", true), record.CodeVersion);
        Assert.Equal(Environment.ProcessId, record.Owner.ProcessId);
        Assert.Equal("LightGbm", record.Params["trainer"]);
        Assert.Equal("0.1", record.Params["learningRate"]);
        Assert.Equal("true", record.Tags["candidate"]);
        Assert.Equal(0.85, record.Metrics["auc"]);
        Assert.Equal([0.80, 0.85], record.History("auc").Select(p => p.Value));
        Assert.Equal(new RunInput("features", 3, "sha256:feed"), Assert.Single(record.Inputs));
        Assert.Equal(["model.zip", "plots/roc.json"], record.Artifacts.Select(a => a.Name).Order());
        Assert.Equal("[[0,0],[1,1]]", File.ReadAllText(Path.Combine(record.ArtifactFolder, "plots", "roc.json")));
        Assert.Equal(4, record.Artifacts.Single(a => a.Name == "model.zip").Size);
    }

    [Fact]
    public void Disposing_without_End_marks_the_run_failed_and_logging_after_end_throws()
    {
        var run = _store.StartRun("income", "crashes");
        run.Dispose();
        var record = _store.GetRun(run.RunId);
        Assert.Equal(RunStatus.Failed, record.Status);
        Assert.Contains("without End", record.Error);
        Assert.Throws<InvalidOperationException>(() => run.LogMetric("auc", 1));
    }

    [Fact]
    public void A_torn_last_line_in_events_is_ignored_by_both_readers()
    {
        var id = Log("torn", "LightGbm", 0.7, "true", RunStatus.Finished);
        File.AppendAllText(Path.Combine(_store.Root, "runs", id, "events.jsonl"), "{\"run\":\"" + id + "\",\"seq\":9,\"kind\":\"met");

        Assert.Equal(0.7, _store.GetRun(id).Metrics["auc"]);
        Assert.Equal([id], _store.ListRunIds(new RunQuery(Filter: "metrics.auc = 0.7")));
    }

    [Fact]
    public void A_damaged_middle_line_is_reported_with_file_and_line()
    {
        var id = Log("damaged", "LightGbm", 0.8, "true", RunStatus.Finished);
        var path = Path.Combine(_store.Root, "runs", id, "events.jsonl");
        var lines = File.ReadAllLines(path);
        lines[0] = "garbage";
        File.WriteAllLines(path, lines);

        var error = Assert.Throws<TrackingException>(() => _store.GetRun(id));
        Assert.Contains("Line 1", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_run_left_running_by_a_dead_process_is_reaped_as_failed()
    {
        string id;
        using (var run = _store.StartRun("income", "killed")) { id = run.RunId; run.End(RunStatus.Finished); }
        // Simulate a process killed mid-run: meta says Running, owned by a pid that does not exist.
        var metaPath = Path.Combine(_store.Root, "runs", id, "meta.json");
        var json = File.ReadAllText(metaPath)
            .Replace("\"status\": \"Finished\"", "\"status\": \"Running\"")
            .Replace($"\"processId\": {Environment.ProcessId}", "\"processId\": 2147483000");
        Assert.NotEqual(File.ReadAllText(metaPath), json);
        File.WriteAllText(metaPath, json);
        File.WriteAllBytes(Path.Combine(_store.Root, "running", id), []);
        Assert.Equal(RunStatus.Running, _store.GetRun(id).Status);

        var reopened = TrackingStore.Open(_store.Root);

        var record = reopened.GetRun(id);
        Assert.Equal(RunStatus.Failed, record.Status);
        Assert.Equal($"process 2147483000 on {Environment.MachineName} ended without finishing the run", record.Error);
        Assert.False(File.Exists(Path.Combine(_store.Root, "running", id)));
    }

    [Fact]
    public void A_live_run_is_not_reaped()
    {
        using var run = _store.StartRun("income", "alive");
        Assert.Empty(_store.ReapOrphans());
        Assert.Equal(RunStatus.Running, _store.GetRun(run.RunId).Status);
    }

    [Fact]
    public void Filter_and_order_by_select_and_sort_runs()
    {
        var a = Log("a", "LightGbm", 0.91, "true", RunStatus.Finished);
        var b = Log("b", "FastTree", 0.95, "true", RunStatus.Finished);
        var c = Log("c", "LightGbm", 0.97, "false", RunStatus.Finished);
        var d = Log("d", "LightGbm", 0.99, "true", RunStatus.Failed);
        Log("e", "LightGbm", 0.50, "true", RunStatus.Finished);
        using (var other = _store.StartRun("other", "x")) { other.LogMetric("auc", 0.99); other.End(RunStatus.Finished); }

        Assert.Equal([a], _store.ListRunIds(new RunQuery("income",
            "metrics.auc > 0.9 and params.trainer = 'LightGbm' and tags.candidate = 'true' and status = 'FINISHED'")));
        Assert.Equal([d, c, b, a], _store.ListRunIds(new RunQuery("income", "metrics.auc >= 0.9", "metrics.auc DESC")));
        Assert.Equal([a, b], _store.ListRunIds(new RunQuery("income", "metrics.auc >= 0.9", "metrics.auc", Limit: 2)));
        Assert.Equal([b], _store.ListRunIds(new RunQuery(Filter: "params.trainer != 'LightGbm'")));
        Assert.Equal([d], _store.ListRunIds(new RunQuery(Filter: "status = 'failed'")));
        Assert.Equal([c], _store.ListRunIds(new RunQuery(Filter: "run_name = 'c' AND tags.candidate LIKE 'f%'")));
        Assert.Empty(_store.ListRunIds(new RunQuery(Filter: "metrics.missing > 0")));
        Assert.Equal(6, _store.ListRuns().Count);
        Assert.Equal(5, _store.ListRunIds(new RunQuery("income", "start_time > 0")).Count);
    }

    [Fact]
    public void Runs_without_events_are_listed_and_ordered_by_attributes()
    {
        using var empty = _store.StartRun("income", "no-events");
        Assert.Equal([empty.RunId], _store.ListRunIds(new RunQuery(Filter: "status = 'RUNNING'")));
        var logged = Log("logged", "LightGbm", 0.9, "true", RunStatus.Finished);
        using var empty2 = _store.StartRun("income", "no-events-2");
        Assert.Equal([empty.RunId, logged, empty2.RunId], _store.ListRunIds(new RunQuery(OrderBy: "start_time ASC")));
        Assert.Equal([logged], _store.ListRunIds(new RunQuery(Filter: "attributes.run_name LIKE 'log%'")));
    }

    [Fact]
    public void Order_by_a_parameter_then_newest_first()
    {
        var a = Log("a", "LightGbm", 0.91, "true", RunStatus.Finished);
        var b = Log("b", "FastTree", 0.95, "true", RunStatus.Finished);
        var c = Log("c", "LightGbm", 0.97, "false", RunStatus.Finished);
        Assert.Equal([b, c, a], _store.ListRunIds(new RunQuery(OrderBy: "params.trainer ASC")));
    }

    [Theory]
    [InlineData("metrics.auc > 'high'", "compares with a number")]
    [InlineData("params.trainer = LightGbm", "quoted string")]
    [InlineData("metrics.auc > 0.9 or status = 'FINISHED'", "'or' is not supported")]
    [InlineData("metrics.auc > 0.9; DROP TABLE r", "unexpected character ';'")]
    [InlineData("colour = 'red'", "unknown attribute 'colour'")]
    [InlineData("params.trainer > 'a'", "operator '>' is not allowed")]
    [InlineData("params.trainer = 'unclosed", "is not closed")]
    [InlineData("metrics.auc >", "expected a value after metrics.auc")]
    [InlineData("metrics.auc > 1 and", "ends too early")]
    public void A_bad_filter_is_refused_with_the_grammar(string filter, string expected)
    {
        var error = Assert.Throws<TrackingException>(() => _store.ListRunIds(new RunQuery(Filter: filter)));
        Assert.Contains(expected, error.Message);
        Assert.Contains("Supported filter grammar", error.Message);
        Assert.Equal(2, error.ExitCode);
    }

    [Fact]
    public void Quotes_in_values_are_data_not_sql()
    {
        string id;
        using (var run = _store.StartRun("income", "quoted"))
        {
            id = run.RunId;
            run.LogParam("note", "it's ' OR 1=1 --");
            run.End(RunStatus.Finished);
        }
        Log("other", "LightGbm", 0.9, "true", RunStatus.Finished);
        Assert.Equal([id], _store.ListRunIds(new RunQuery(Filter: "params.note = 'it''s '' OR 1=1 --'")));
        Assert.Equal([id], _store.ListRunIds(new RunQuery(Filter: "params.`note` = \"it's ' OR 1=1 --\"")));
    }

    [Fact]
    public void Compare_runs_puts_params_and_metrics_side_by_side()
    {
        var a = Log("a", "LightGbm", 0.91, "true", RunStatus.Finished);
        var b = Log("b", "FastTree", 0.95, "true", RunStatus.Finished);
        var comparison = _store.CompareRuns([a, b]);
        Assert.Equal([a, b], comparison.RunIds);
        var trainer = Assert.Single(comparison.Params);
        Assert.Equal(["LightGbm", "FastTree"], trainer.Values);
        Assert.True(trainer.Differs);
        Assert.Equal([0.91, 0.95], Assert.Single(comparison.Metrics).Values);
    }

    [Fact]
    public void Parallel_trials_log_without_losing_events()
    {
        using var parent = _store.StartRun("income", "tune");
        var ids = new string[2];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t =>
        {
            using var trial = _store.StartRun("income", $"trial-{t}", parent.RunId);
            ids[t] = trial.RunId;
            Parallel.For(0, 50, i => trial.LogMetric("loss", i, step: i));
            parent.LogMetric($"best-{t}", t);
            trial.End(RunStatus.Finished);
        });
        parent.End(RunStatus.Finished);
        foreach (var id in ids) Assert.Equal(50, _store.GetRun(id).History("loss").Count);
        Assert.Equal(49, _store.GetRun(ids[0]).Metrics["loss"]);
        Assert.Equal(2, _store.GetRun(parent.RunId).Metrics.Count);
        Assert.Equal(ids.Order(), _store.ListRunIds(new RunQuery(Filter: $"parent_run_id = '{parent.RunId}'")).Order());
    }

    [Fact]
    public async Task A_reader_listing_while_another_thread_writes_sees_whole_runs()
    {
        var done = false;
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 15; i++) Log($"w{i}", "LightGbm", i / 20.0, "true", RunStatus.Finished);
            Volatile.Write(ref done, true);
        });
        var lists = 0;
        while (!Volatile.Read(ref done) || lists == 0)
        {
            foreach (var run in _store.ListRuns(new RunQuery("income", OrderBy: "metrics.auc DESC")))
            {
                Assert.Equal("income", run.Experiment);
                Assert.StartsWith("w", run.Name);
            }
            lists++;
        }
        await writer;
        Assert.Equal(15, _store.ListRuns(new RunQuery("income")).Count);
    }

    [Fact]
    public void Code_version_outside_a_repository_has_no_commit()
    {
        Assert.Equal(new CodeVersion(null, false), CodeVersion.Detect(_temp.Path));
    }

    [Fact]
    public void Code_version_inside_a_repository_has_the_commit_and_dirty_flag()
    {
        var repo = Directory.CreateDirectory(Path.Combine(_temp.Path, "repo")).FullName;
        foreach (var args in new string[][] { ["init", "-q"], ["config", "user.name", "T"], ["config", "user.email", "t@example.com"] })
            Assert.True(GitCli.Run(repo, args).Ok);
        File.WriteAllText(Path.Combine(repo, "a.txt"), "1");
        Assert.True(GitCli.Run(repo, "add", "a.txt").Ok);
        Assert.True(GitCli.Run(repo, "commit", "-q", "-m", "one").Ok);
        var head = GitCli.Run(repo, "rev-parse", "HEAD").StdOut.Trim();

        Assert.Equal(new CodeVersion(head, false), CodeVersion.Detect(repo));
        File.WriteAllText(Path.Combine(repo, "a.txt"), "2");
        Assert.Equal(new CodeVersion(head, true), CodeVersion.Detect(repo));
    }

    private string Log(string name, string trainer, double auc, string candidate, RunStatus status)
    {
        using var run = _store.StartRun("income", name, tags: new Dictionary<string, string> { ["candidate"] = candidate });
        run.LogParam("trainer", trainer);
        run.LogMetric("auc", auc / 2, step: 0);
        run.LogMetric("auc", auc, step: 1);
        run.End(status);
        Thread.Sleep(2); // distinct, increasing run ids
        return run.RunId;
    }
}
