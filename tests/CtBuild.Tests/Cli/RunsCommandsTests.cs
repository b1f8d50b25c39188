using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;
using CtBuild.Tracking;

namespace CtBuild.Tests.Cli;

/// <summary><c>ctb runs list</c> as a user runs it: a real process, output redirected (80 columns).</summary>
public sealed class RunsCommandsTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Run_ids_stay_whole_on_a_narrow_terminal_and_metrics_can_be_chosen()
    {
        var store = TrackingStore.Open(_ws.Load().TrackingDir);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var run = store.StartRun("small-model", $"trial {i} with a long descriptive name");
            run.LogMetric("valid_auc", 0.9 + i / 100.0);
            run.LogMetric("valid_logloss", 0.4);
            run.LogMetric("training_seconds", 1.5);
            run.End(RunStatus.Finished);
            ids.Add(run.RunId);
        }

        var result = CtbProcess.Run(_ws.Root, ["runs", "list", "--metrics", "valid_auc", "--config", Path.Combine(_ws.Root, "ctbuild.json")]);

        Assert.Equal(0, result.ExitCode);
        var lines = result.StdOut.Split('\n');
        Assert.All(ids, id => Assert.Contains(lines, l => l.StartsWith(id) && l.TrimEnd().EndsWith(id == ids[2] ? "0.9200" : id == ids[1] ? "0.9100" : "0.9000")));
        Assert.DoesNotContain("valid_logloss", result.StdOut);
    }
}
