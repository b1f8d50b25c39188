using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning;

/// <summary>What every sampler must do, run against each implementation.</summary>
public class SamplerConformanceTests
{
    public static TheoryData<string> Samplers => ["TPE", "TPE-univariate", "TPE-optuna3.1", "Random"];

    private static ISampler Make(string name, int seed) => name switch
    {
        "TPE" => new TpeSampler(seed),
        "TPE-univariate" => new TpeSampler(seed, new TpeOptions { Multivariate = false }),
        "TPE-optuna3.1" => new TpeSampler(seed, TpeOptions.Optuna31),
        _ => new RandomSampler(seed),
    };

    private static readonly SearchSpace Conditional = SearchSpaceParser.Parse("""
        {
          "seed": 7,
          "rate": "loguniform(0.001, 0.1)",
          "model": { "choice": {
              "tree": { "leaves": "int(4, 64, 4)", "split": { "choice": { "gini": {}, "entropy": { "base": "quniform(2, 16, 2)" } } } },
              "linear": { "penalty": "choice(l1, l2)", "alpha": "uniform(0, 1)" }
          } }
        }
        """);

    // A smooth objective that depends on the branch, so TPE has something to learn.
    private static double Objective(IReadOnlyDictionary<string, object> p) => (string)p["model"] == "tree"
        ? (int)p["leaves"] / 64.0 + (p.TryGetValue("base", out var b) ? (double)b / 100 : 0)
        : 1 - Math.Abs((double)p["alpha"] - 0.3) + Math.Log10((double)p["rate"]) / 10;

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Parameters_appear_only_with_their_parent_branch_and_stay_in_range(string sampler)
    {
        var study = new Study(Conditional, Make(sampler, seed: 3));
        var result = study.Optimize((t, _) => new TrialOutcome(Objective(t.Params)), new StudyOptions { MaxEvals = 40, Parallelism = 1 });

        foreach (var trial in result.Trials)
        {
            var p = trial.Params;
            Assert.Equal(7, p["seed"]);
            Assert.InRange((double)p["rate"], 0.001, 0.1);
            var expected = new HashSet<string> { "seed", "rate", "model" };
            if ((string)p["model"] == "tree")
            {
                int leaves = Assert.IsType<int>(p["leaves"]);
                Assert.True(leaves is >= 4 and <= 64 && leaves % 4 == 0, $"leaves={leaves}");
                expected.UnionWith(["leaves", "split"]);
                if ((string)p["split"] == "entropy")
                {
                    double @base = Assert.IsType<double>(p["base"]);
                    Assert.True(@base is >= 2 and <= 16 && @base % 2 == 0, $"base={@base}");
                    expected.Add("base");
                }
            }
            else
            {
                Assert.Contains(p["penalty"], new object[] { "l1", "l2" });
                Assert.InRange((double)p["alpha"], 0, 1);
                expected.UnionWith(["penalty", "alpha"]);
            }
            Assert.Equal(expected, p.Keys.ToHashSet());
        }
        // Every path through the tree is explored: tree/gini, tree/entropy, linear.
        Assert.Equal(3, result.Trials.Select(t => (t.Params["model"], t.Params.GetValueOrDefault("split"))).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Samplers))]
    public void The_same_seed_gives_the_same_trials(string sampler)
    {
        IEnumerable<string> Run(int seed) => new Study(Conditional, Make(sampler, seed))
            .Optimize((t, _) => new TrialOutcome(Objective(t.Params)), new StudyOptions { MaxEvals = 30, Parallelism = 1 })
            .Trials.Select(t => t.ToString().Split(' ', 3)[2]);

        Assert.Equal(Run(11), Run(11));
        Assert.NotEqual(Run(11), Run(12));
    }
}
