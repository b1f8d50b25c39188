using CtBuild.Tests.Support;
using CtBuild.Tracking;
using CtBuild.Training;

namespace CtBuild.Tests.Stages;

/// <summary>tune.costAware reaches the study: it is recorded on the tuning run and makes a study of its own.</summary>
public sealed class TuneStageCostAwareTests
{
    static (string Study, string CostAware) Tune(string costAware)
    {
        using var temp = SmallConfig.Tuned($", \"costAware\": {costAware}");
        var ws = temp.Load();
        var run = TrackingStore.Open(ws.TrackingDir, readOnly: true).GetRun(CandidateModel.Read(ws.CandidateDir)!.TuningRunId);
        return (run.Tags["study"], run.Params["costAware"]);
    }

    [Fact]
    public void Cost_aware_tuning_is_recorded_and_never_shares_a_study_with_plain_tpe()
    {
        var plain = Tune("false");
        var costAware = Tune("true");
        Assert.Equal(("false", "true"), (plain.CostAware, costAware.CostAware));
        // Same splits, space and seed: only the sampler differs, and a resumed study must not mix the two.
        Assert.NotEqual(plain.Study, costAware.Study);
    }
}
