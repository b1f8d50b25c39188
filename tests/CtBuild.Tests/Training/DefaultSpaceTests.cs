using CtBuild.Configuration;
using CtBuild.Tests.Support;
using CtBuild.Training;
using CtBuild.Tuning;

namespace CtBuild.Tests.Training;

/// <summary>The sample's search space, which users copy: the good trainers first and no trainer that can stall a search.</summary>
public sealed class DefaultSpaceTests
{
    private static SearchSpace BundledSpace() =>
        SearchSpaceParser.Parse(ConfigLoader.Load(Path.Combine(TempWorkspace.RepoRoot, "ctbuild.json")).Tune.Space);

    [Fact]
    public void The_bundled_space_tries_gradient_boosting_first_and_leaves_out_sgd()
    {
        var trainers = BundledSpace().Nodes.OfType<ChoiceNode>().Single(c => c.Name == SearchSpaceParser.TrainerKey).Branches.Select(b => b.Label).ToArray();
        Assert.Equal("LightGbm", trainers[0]);
        Assert.DoesNotContain("SgdCalibrated", trainers); // 40–93% of trial time on real data and never won (README "Search space")
    }

    [Fact]
    public void Every_trainer_of_the_bundled_space_has_bounded_trees_leaves_and_iterations()
    {
        var choice = BundledSpace().Nodes.OfType<ChoiceNode>().Single(c => c.Name == SearchSpaceParser.TrainerKey);
        foreach (var branch in choice.Branches)
        {
            var spec = TrainerCatalog.Get(branch.Label);
            foreach (var parameter in spec.Parameters.Where(p => p.CostGrows))
            {
                var node = branch.Space.Nodes.OfType<ParameterNode>().FirstOrDefault(n => n.Name == parameter.Name);
                double most = node?.Distribution switch
                {
                    IntDistribution i => i.High,
                    FloatDistribution f => f.High,
                    _ => Convert.ToDouble(parameter.Default ?? double.PositiveInfinity, System.Globalization.CultureInfo.InvariantCulture),
                };
                Assert.True(most <= 500, $"{branch.Label}.{parameter.Name} can reach {most}: a trial on big data could hold a worker for minutes");
            }
        }
    }
}
