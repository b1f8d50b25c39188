using CtBuild.Evaluation;
using CtBuild.Evaluation.Benchmarks;

namespace CtBuild.Tests.Evaluation;

public class GateSimulationTests
{
    [Fact]
    public void The_simulation_promotes_clear_gains_refuses_clear_losses_and_prints_every_guard()
    {
        var result = GateSimulation.Run(decisionsPerCell: 3, resamples: 200);

        var rule = GateSimulation.Guards(new GateOptions())[0].Name;
        Assert.All(result.Cells.Where(c => c.TrueDelta == 0.02 && c.TestRows == 10000), c => Assert.Equal(1.0, c.Rate));
        Assert.All(result.Cells.Where(c => c.TrueDelta == -0.01), c => Assert.Equal(0.0, c.Rate));
        Assert.Equal(3 * 6 * 5, result.Cells.Count);
        var table = result.ToTable();
        foreach (var (name, _) in GateSimulation.Guards(new GateOptions())) Assert.Contains(name, table);
        Assert.Contains("alpha 0.05 over 20 (default)", table);
        Assert.Contains("flip20", table);
        Assert.Equal(4, result.Goals.Count);
        Assert.Contains(rule, table);
    }
}
