using CtBuild.Lake;
using CtBuild.Evaluation;
using CtBuild.Pipeline;
using CtBuild.Stages;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Stages;

public sealed class EvaluateStageTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public EvaluateStageTests()
    {
        _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(500));
        RunAll();
    }

    public void Dispose() => _ws.Dispose();

    void RunAll(RunOptions? options = null)
    {
        var context = _ws.Context(options ?? new RunOptions { NoCommit = true });
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);
    }

    EvaluationRecord Decision() => EvaluationRecord.Read(_ws.Load().DecisionDir)!;

    [Fact]
    public void The_first_run_is_judged_against_the_floor_and_records_the_test_snapshot()
    {
        var d = Decision().Decision;
        Assert.Null(d.Champion);
        Assert.Equal(GateOutcome.Promote, d.Outcome);
        Assert.Equal(new TestSnapshotRef("splits", LakeTables.LatestVersion(_ws.Load(), "splits")!.Value), d.TestSnapshot);
    }

    [Fact]
    public void Retraining_the_same_model_keeps_the_champion()
    {
        RunAll(new RunOptions { Force = true, NoCommit = true });
        var d = Decision().Decision;
        Assert.Equal(GateOutcome.KeepChampion, d.Outcome);
        Assert.NotNull(d.Bootstrap);
        Assert.True(d.Bootstrap!.WinRatio < 0.5, $"win ratio {d.Bootstrap.WinRatio} for an identical model");
    }

    [Fact]
    public void A_champion_whose_columns_are_gone_is_reported_unscorable_and_the_floor_applies()
    {
        _ws.WithFeaturesSql("SELECT id, age, score, label = 'yes' AS label FROM raw"); // city is gone
        RunAll();
        var record = Decision();
        Assert.Null(record.Decision.Champion);
        Assert.Contains("no longer matches", record.Decision.ChampionUnscorable);
        Assert.Contains("city", record.Decision.ChampionUnscorable);
    }

    [Fact]
    public void A_champion_is_scored_through_its_own_pipeline_when_its_columns_still_exist()
    {
        _ws.WithFeaturesSql("SELECT id, age, city, score, score * 2 AS score2, label = 'yes' AS label FROM raw");
        RunAll();
        var record = Decision();
        Assert.NotNull(record.Decision.Champion);
        Assert.Contains("'score2' is new", record.SignatureDifferences);
    }

    [Fact]
    public void A_tampered_champion_model_file_is_refused()
    {
        var model = Directory.GetFiles(Path.Combine(_ws.Root, "models", "small-model"), "model.zip", SearchOption.AllDirectories).Single();
        File.AppendAllText(model, "tampered");
        _ws.WriteRaw("batch-2.csv", SmallConfig.Rows(50, firstId: 9000, seed: 4));
        var ex = Assert.ThrowsAny<CtBuildException>(() => RunAll());
        Assert.Contains("sha256", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_tampered_champion_is_found_where_staleness_is_decided_and_where_it_is_shown()
    {
        var context = _ws.Context();
        Assert.True(StageRunner.Check(new EvaluateStage(), context).UpToDate);
        var model = Directory.GetFiles(Path.Combine(_ws.Root, "models", "small-model"), "model.zip", SearchOption.AllDirectories).Single();
        var modified = File.GetLastWriteTimeUtc(model);
        var bytes = File.ReadAllBytes(model);
        bytes[bytes.Length / 2] ^= 0xFF; // same size, same mtime: only a full hash sees it
        File.WriteAllBytes(model, bytes);
        File.SetLastWriteTimeUtc(model, modified);

        foreach (var stage in new Stage[] { new EvaluateStage(), new PromoteStage() })
        {
            var freshness = StageRunner.Check(stage, _ws.Context());
            Assert.False(freshness.UpToDate, stage.Name);
            Assert.StartsWith("champion model sha256 mismatch: small-model v1's models/small-model/versions/v1/model.zip is ", freshness.Reason);
        }
        Assert.True(StageRunner.Check(new TuneStage(), _ws.Context()).UpToDate);

        var config = Path.Combine(_ws.Root, "ctbuild.json");
        var status = CrashSafety.CtbProcess.Run(_ws.Root, ["status", "--config", config]);
        Assert.Contains(status.StdOut.Split('\n'), l => l.StartsWith("evaluate") && l.Contains("champion model sha256 mismatch"));
        // Status is transitive: Promote is stale because Evaluate, before it, is (its own reason is checked above).
        Assert.Contains(status.StdOut.Split('\n'), l => l.StartsWith("promote") && l.Contains("stale: upstream evaluate"));
        var show = CrashSafety.CtbProcess.Run(_ws.Root, ["registry", "show", "small-model", "--config", config]);
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("warning: small-model v1 (champion): Artifact models/small-model/versions/v1/model.zip does not match the registry record", show.StdErr);
        var list = CrashSafety.CtbProcess.Run(_ws.Root, ["registry", "list", "--config", config]);
        Assert.Contains("v1 (DAMAGED)", list.StdOut);
        Assert.Contains("warning: small-model v1 (champion)", list.StdErr);
        var json = CrashSafety.CtbProcess.Run(_ws.Root, ["registry", "show", "small-model", "--json", "--config", config]);
        using var _ = System.Text.Json.JsonDocument.Parse(json.StdOut); // the warning stays out of the JSON
    }

    [Fact]
    public void The_split_key_left_out_of_the_features_is_said_in_the_tune_log_and_the_model_card()
    {
        Assert.Contains(_ws.Log.Lines, l => l.StartsWith("tune: ") && l.EndsWith("; not features: id (split.key)"));
        var card = Directory.GetFiles(Path.Combine(_ws.Root, "models", "small-model"), "model-card.json", SearchOption.AllDirectories).Single();
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(card));
        var notFeatures = doc.RootElement.GetProperty("notFeatures").EnumerateArray()
            .Select(e => $"{e.GetProperty("name").GetString()}: {e.GetProperty("reason").GetString()}").ToList();
        Assert.Equal(["id: split.key"], notFeatures);
        Assert.DoesNotContain(doc.RootElement.GetProperty("features").EnumerateArray(), f => f.GetProperty("name").GetString() == "id");
    }

    [Fact]
    public void A_split_key_repeated_in_the_test_split_fails_naming_the_duplicate_keys()
    {
        _ws.WriteRaw("batch-2.csv", SmallConfig.Rows(500, firstId: 1, seed: 2)); // ids 1..500 again, other rows

        var ex = Assert.ThrowsAny<CtBuildException>(() => RunAll());

        Assert.Matches(@"The split key 'id' is not unique in the test split of splits v\d+: [\d,]+ key\(s\) repeat, e\.g\. '\d+' \(2 rows\)", ex.Message);
        Assert.Contains("Make the key unique", ex.Message);
    }

    [Fact]
    public void Declared_segments_are_each_reported_with_their_size_and_a_missing_segment_column_is_a_config_error()
    {
        using var ws = new TempWorkspace()
            .WithConfig(SmallConfig.Json().Replace("\"evaluate\": { \"resamples\": 200, \"minAuc\": 0.5 }",
                "\"evaluate\": { \"resamples\": 200, \"minAuc\": 0.5, \"segments\": [\"city\"], \"minSegmentRows\": 5, \"minClassCount\": 2, \"guard\": { \"kind\": \"none\" } }"))
            .WithFeaturesSql(SmallConfig.FeaturesSql);
        ws.WriteRaw("batch-1.csv", SmallConfig.Rows(500));
        var context = ws.Context(new RunOptions { NoCommit = true });
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);
        ws.WriteRaw("batch-2.csv", SmallConfig.Rows(100, firstId: 5000, seed: 3));
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, ws.Context(new RunOptions { NoCommit = true }));

        var d = EvaluationRecord.Read(ws.Load().DecisionDir)!.Decision;
        Assert.NotNull(d.Champion);
        Assert.Equal(["Lima", "Oslo", "Pune"], d.Segments.Select(s => s.Value).Order());
        Assert.Equal(d.Candidate.Rows, d.Segments.Sum(s => s.Rows));
        Assert.All(d.Criteria.Where(c => c.Name.StartsWith("segment city = ")), c => Assert.Matches(@"\(\d+ rows, \d+ positive\)", c.Line));

        ws.WithFeaturesSql("SELECT id, age, score, label = 'yes' AS label FROM raw");
        var ex = Assert.Throws<ConfigException>(() => { foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, ws.Context(new RunOptions { NoCommit = true })); });
        Assert.StartsWith("evaluate.segments names 'city', which is not a column of splits v", ex.Message);
    }
}
