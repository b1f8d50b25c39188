using CtBuild.Training;
using CtBuild.Tuning;

namespace CtBuild.Tests.Training;

/// <summary>The cost-aware start: every trainer is tried first in its cheapest configuration, before the sampler's trials.</summary>
public sealed class LowCostStartTests
{
    private static readonly SearchSpace Space = SearchSpaceParser.Parse("""
        { "trainer": { "choice": {
            "LightGbm": { "numberOfLeaves": "int(8, 96)", "learningRate": "loguniform(0.02, 0.3)", "numberOfIterations": "int(50, 400, 25)", "minimumExampleCountPerLeaf": "int(5, 80)" },
            "FastTree": { "numberOfLeaves": "int(8, 64)", "learningRate": "loguniform(0.03, 0.3)", "numberOfTrees": "int(50, 300, 25)" },
            "LbfgsLogisticRegression": { "l2Regularization": "loguniform(1e-4, 10)", "maximumNumberOfIterations": "int(20, 500)" } } } }
        """);

    [Fact]
    public void Each_trainer_starts_with_few_trees_leaves_and_iterations_and_its_defaults_elsewhere()
    {
        var points = LowCostStart.Points(Space);
        Assert.Equal(["LightGbm", "FastTree", "LbfgsLogisticRegression"], points.Select(p => (string)p["trainer"]));
        Assert.Equal(8, points[0]["numberOfLeaves"]);
        Assert.Equal(50, points[0]["numberOfIterations"]);
        Assert.Equal(Math.Sqrt(0.02 * 0.3), (double)points[0]["learningRate"], 9); // no ML.NET default: the middle of the log range
        Assert.Equal(8, points[1]["numberOfLeaves"]);
        Assert.Equal(50, points[1]["numberOfTrees"]);
        Assert.Equal(0.2, (double)points[1]["learningRate"], 9); // FastTree's default lies in the range
        Assert.Equal(1.0, (double)points[2]["l2Regularization"], 9);
        Assert.Equal(20, points[2]["maximumNumberOfIterations"]);
        foreach (var p in points) Assert.Equal(Space.BranchValues(p, "trainer").Keys.Order(), p.Keys.Where(k => k != "trainer").Order());
    }

    [Fact]
    public void A_study_runs_the_cheap_points_first_then_the_sampler()
    {
        var points = LowCostStart.Points(Space);
        var study = new Study(Space, new StartPointsSampler(new TpeSampler(2, new TpeOptions { NStartupTrials = 4 }), points));
        var result = study.Optimize((t, _) => new TrialOutcome(t.GetString("trainer") == "LightGbm" ? 0.8 : 0.7), new StudyOptions { MaxEvals = 6, Parallelism = 1 });
        for (int i = 0; i < points.Count; i++) Assert.Equal(points[i], result.Trials[i].Params);
        Assert.DoesNotContain(result.Trials.Skip(points.Count), t => points.Any(p => p.SequenceEqual(t.Params)));
    }
}
