using CtBuild.Evaluation;
using CtBuild.Pipeline;
using CtBuild.Stages;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Pipeline;

public sealed class PipelineRunTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    IReadOnlyList<StageResult> RunAll(RunOptions? options = null)
    {
        var context = _ws.Context(options);
        return PipelineDefinition.Stages.Select(s => StageRunner.Run(s, context)).ToList();
    }

    [Fact]
    public void First_run_promotes_v1_with_a_commit_and_a_rerun_runs_nothing()
    {
        GitRepo.Init(_ws.Root);
        _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(600));
        GitRepo.CommitAll(_ws.Root, "data");

        var first = RunAll();

        Assert.All(first, r => Assert.True(r.Ran, $"{r.Stage} should run on a first run"));
        var log = GitRepo.Log(_ws.Root);
        Assert.StartsWith("Promote small-model v1: AUC ", log[0]);
        var store = CtBuild.Tracking.TrackingStore.Open(_ws.Load().TrackingDir, readOnly: true);
        var candidates = store.ListRuns(new CtBuild.Tracking.RunQuery(Filter: "tags.candidate = 'true'"));
        Assert.Equal(first.Single(r => r.Stage == "tune").Outputs!.Get("candidate.run"), Assert.Single(candidates).Id);
        Assert.All(GitRepo.FilesIn(_ws.Root), f => Assert.StartsWith("models/small-model/", f));

        var second = RunAll();
        Assert.All(second, r => Assert.False(r.Ran, $"{r.Stage} should be skipped on a no-op rerun"));
        Assert.Equal(log.Count, GitRepo.Log(_ws.Root).Count);
    }
}
