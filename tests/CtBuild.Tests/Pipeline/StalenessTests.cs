using CtBuild.Pipeline;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Pipeline;

/// <summary>Only stale stages re-run: the rules users rely on to keep continuous training cheap.</summary>
public sealed class StalenessTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public StalenessTests()
    {
        _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(400));
        RanStages(); // the first run runs everything
    }

    public void Dispose() => _ws.Dispose();

    string[] RanStages(RunOptions? options = null)
    {
        var context = _ws.Context(options ?? new RunOptions { NoCommit = true });
        return PipelineDefinition.Stages.Select(s => StageRunner.Run(s, context)).Where(r => r.Ran).Select(r => r.Stage).ToArray();
    }

    [Fact]
    public void Nothing_changed_runs_nothing() => Assert.Empty(RanStages());

    [Fact]
    public void A_new_raw_file_reruns_ingest_and_everything_after()
    {
        _ws.WriteRaw("batch-2.csv", SmallConfig.Rows(100, firstId: 10_000, seed: 5));
        Assert.Equal(["ingest", "features", "split", "tune", "evaluate", "report", "promote"], RanStages());
    }

    [Fact]
    public void Status_after_a_new_raw_file_says_every_later_stage_will_run_because_of_ingest()
    {
        _ws.WriteRaw("batch-2.csv", SmallConfig.Rows(100, firstId: 10_000, seed: 5));
        var status = StageRunner.CheckChain(PipelineDefinition.Stages, _ws.Context());
        Assert.False(status[0].UpToDate);
        Assert.StartsWith("changed: ", status[0].Reason);
        Assert.All(status.Skip(1), s =>
        {
            Assert.False(s.UpToDate);
            Assert.Equal("upstream ingest", s.Reason);
            Assert.Equal("ingest", s.Upstream);
        });
        // What status promised is what runs.
        Assert.Equal(status.Select(s => s.Stage), RanStages());
    }

    [Fact]
    public void Status_after_a_bootstrap_change_names_evaluate_as_the_cause_downstream()
    {
        _ws.WithConfig(SmallConfig.Json().Replace("\"resamples\": 200", "\"resamples\": 300"));
        var status = StageRunner.CheckChain(PipelineDefinition.Stages, _ws.Context());
        Assert.Equal([true, true, true, true, false, false, false], status.Select(s => s.UpToDate));
        Assert.Equal(["upstream evaluate", "upstream evaluate"], status.Skip(5).Select(s => s.Reason));
    }

    [Fact]
    public void Editing_the_features_sql_reruns_features_onwards_but_not_ingest()
    {
        _ws.WithFeaturesSql("SELECT id, age, city, score, score * score AS score_sq, label = 'yes' AS label FROM raw");
        Assert.Equal(["features", "split", "tune", "evaluate", "report", "promote"], RanStages());
    }

    [Fact]
    public void A_features_edit_that_leaves_the_content_alone_stops_at_features()
    {
        _ws.WithFeaturesSql("-- same features, reformatted\n" + SmallConfig.FeaturesSql.Replace("FROM raw", "\nFROM raw"));
        Assert.Equal(["features"], RanStages());
    }

    [Fact]
    public void After_an_upgrade_a_stage_whose_code_version_changed_reruns_with_the_reason_and_the_stages_before_it_do_not()
    {
        // What a workspace last run by an older CtBuild holds: the split lock made with split/1 by engine 0.9.
        var stages = _ws.Load().StagesDir;
        var split = StageLock.Read(stages, "split")!;
        var oldInputs = new Dictionary<string, string>(split.Inputs) { ["code"] = "split/1" };
        (split with { Inputs = oldInputs, Fingerprint = new StageInputs(oldInputs).Fingerprint(), Engine = "0.9.0" }).Write(stages);

        var freshness = StageRunner.Check(new CtBuild.Stages.SplitStage(), _ws.Context());
        Assert.False(freshness.UpToDate, File.ReadAllText(StageLock.PathFor(stages, "split")) + freshness.Reason);
        Assert.Equal($"changed: code (split/1 → {new CtBuild.Stages.SplitStage().CodeVersion}, CtBuild 0.9.0 → {EngineVersion.Current})", freshness.Reason);

        Assert.Equal(["split"], RanStages()); // the same splits: Tune onwards stay fresh
        Assert.Equal(EngineVersion.Current, StageLock.Read(stages, "split")!.Engine);
    }

    [Fact]
    public void Changing_only_the_bootstrap_settings_reruns_evaluate_onwards()
    {
        _ws.WithConfig(SmallConfig.Json().Replace("\"resamples\": 200", "\"resamples\": 300"));
        Assert.Equal(["evaluate", "report", "promote"], RanStages());
    }

    [Fact]
    public void Force_reruns_everything()
    {
        Assert.Equal(7, RanStages(new RunOptions { Force = true, NoCommit = true }).Length);
    }

    [Fact]
    public void A_deleted_output_makes_its_stage_stale()
    {
        var ws = _ws.Load();
        File.Delete(Path.Combine(ws.CandidateDir, "model.zip"));
        var freshness = StageRunner.Check(new CtBuild.Stages.TuneStage(), _ws.Context());
        Assert.False(freshness.UpToDate);
        Assert.Equal("its outputs are missing or changed", freshness.Reason);
    }
}
