using System.Text.Json;
using Xunit.Abstractions;
using CtBuild.Tuning.Benchmarks;

namespace CtBuild.Tests.Tuning.Benchmarks;

/// <summary>A fact that runs only when CTB_BENCHMARK=1, so the full benchmark stays out of the ordinary test run.</summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CTB_BENCHMARK") != "1")
            Skip = "Benchmark: set CTB_BENCHMARK=1 and run in Release to include it.";
    }
}

public class TunerBenchmarkTests(ITestOutputHelper output)
{
    public static TheoryData<string, double[]> Minimisers => new()
    {
        { "Branin", [Math.PI, 2.275] },
        { "Hartmann6", [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573] },
        { "Rosenbrock4", [1, 1, 1, 1] },
        { "Ackley5", [0, 0, 0, 0, 0] },
        { "Levy4", [1, 1, 1, 1] },
    };

    [Theory]
    [MemberData(nameof(Minimisers))]
    public void Each_function_reaches_its_known_minimum_at_its_minimiser(string name, double[] minimiser)
    {
        var function = BenchmarkFunction.Standard.Single(f => f.Name == name);

        Assert.Equal(function.Minimum, function.Evaluate(minimiser), 5);
        Assert.Equal(minimiser.Length, function.Bounds.Count);
        var centre = function.Bounds.Select(b => (b.Low + b.High) / 2 + 0.1).ToArray();
        Assert.True(function.Evaluate(centre) > function.Minimum);
    }

    [Fact]
    public void A_small_run_reports_regret_summaries_a_table_and_json()
    {
        var result = TunerBenchmark.Run(new TunerBenchmarkOptions
        {
            Seeds = 3, Budgets = [20, 30], Functions = [BenchmarkFunction.Branin], OverheadHistory = 60, OverheadSamples = 3,
        });

        Assert.Equal(4, result.Regrets.Count);
        foreach (var summary in result.Regrets)
        {
            Assert.Equal(3, summary.Regrets.Count);
            Assert.All(summary.Regrets, r => Assert.True(r >= 0));
            Assert.True(summary.LowerQuartile <= summary.Median && summary.Median <= summary.UpperQuartile);
        }
        // More evaluations never make the best found worse.
        foreach (var sampler in new[] { "TPE", "Random" })
        {
            var at20 = result.Regrets.Single(r => r.Sampler == sampler && r.Budget == 20).Regrets;
            var at30 = result.Regrets.Single(r => r.Sampler == sampler && r.Budget == 30).Regrets;
            Assert.All(at20.Zip(at30), p => Assert.True(p.Second <= p.First));
        }
        Assert.True(result.SuggestMedianMilliseconds > 0 && result.SuggestFastestMilliseconds <= result.SuggestMedianMilliseconds);
        var table = result.ToTable();
        Assert.Contains("Branin          20  ", table);
        Assert.Contains("TPE suggestion after 60 completed trials: median", table);
        Assert.Contains(" ms CPU each (goal < 5 ms)", table);
        var json = JsonDocument.Parse(result.ToJson()).RootElement;
        Assert.Equal(4, json.GetProperty("Regrets").GetArrayLength());
    }

    [Fact]
    public void Mann_whitney_p_values_match_the_normal_approximation()
    {
        // By hand (scipy's mannwhitneyu(method="asymptotic") gives the same): U = 0, mean 4.5, sd √5.25,
        // z = (4.5 − 0.5) / √5.25 = 1.7457, p = 2·Φ(−1.7457) = 0.08086.
        Assert.Equal(0.08086, TunerBenchmark.MannWhitneyP([1, 2, 3], [4, 5, 6]), 4);
        Assert.Equal(0.08086, TunerBenchmark.MannWhitneyP([4, 5, 6], [1, 2, 3]), 4);
        // Interleaved samples are no evidence of a difference; all-equal ones neither (no spread: p = 1).
        Assert.True(TunerBenchmark.MannWhitneyP([1, 3, 5, 7], [2, 4, 6, 8]) > 0.6);
        Assert.Equal(1, TunerBenchmark.MannWhitneyP([2, 2, 2], [2, 2]));
        // With ties across the samples (ranks averaged, the variance shrinks): ranks 1, 3, 3 | 3, 5.5, 5.5, U = 1,
        // mean 4.5, tie term 24 + 6, sd = √(9/12 · (7 − 30/30)) = √4.5, z = (3.5 − 0.5) / √4.5 = 1.4142, p = 0.1573.
        Assert.Equal(0.1573, TunerBenchmark.MannWhitneyP([1, 2, 2], [2, 3, 3]), 3);
    }

    [Fact]
    public void A_reference_run_is_printed_with_its_quartiles_ratio_and_p_value()
    {
        var result = TunerBenchmark.Run(new TunerBenchmarkOptions
        {
            Seeds = 3, Budgets = [20], Functions = [BenchmarkFunction.Branin], OverheadHistory = 30, OverheadSamples = 1,
            Reference = new Dictionary<string, IReadOnlyList<double>> { ["Branin"] = [1e6, 2e6, 3e6] }, ReferenceName = "Far-off",
        });

        var line = result.ToTable().Split('\n').Single(l => l.StartsWith("Branin", StringComparison.Ordinal));
        Assert.Contains("2E+06 [1.5E+06, 2.5E+06]", line);
        Assert.Contains(" 0.08 ", line); // every TPE regret below every reference one: U = 0 on 3 against 3
        Assert.EndsWith("TPE", line.TrimEnd());
    }

    [Fact]
    public void Quantiles_interpolate_like_numpy()
    {
        Assert.Equal(2.5, TunerBenchmark.Quantile([4, 1, 3, 2], 0.5));
        Assert.Equal(1.75, TunerBenchmark.Quantile([4, 1, 3, 2], 0.25));
        Assert.Equal(7, TunerBenchmark.Quantile([7], 0.75));
    }

    [BenchmarkFact]
    [Trait("Category", "Benchmark")]
    public void Tpe_beats_random_on_every_function_at_100_evaluations()
    {
        var result = TunerBenchmark.Run();
        output.WriteLine(result.ToTable());

        Assert.True(result.TpeBeatsRandomEverywhere(100), result.ToTable());
    }
}
