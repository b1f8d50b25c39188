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
}
