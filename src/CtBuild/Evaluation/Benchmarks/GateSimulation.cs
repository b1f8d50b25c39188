using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CtBuild.Evaluation.Benchmarks;

/// <summary>Promotion rate of one rule and guard at one true ΔAUC and test size.</summary>
public sealed record GateSimulationCell(string Guard, int TestRows, double TrueDelta, int Decisions, int Promotions)
{
    public double Rate => (double)Promotions / Decisions;
}

/// <summary>One guard's flip probability over 20 retrains of an equal candidate at one test size.</summary>
/// <param name="PerDecision">Promotion rate of an equal candidate (true ΔAUC 0).</param>
/// <param name="Flip20">1 − (1 − PerDecision)^20: the champion is replaced at least once in 20 independent retrains.</param>
/// <param name="Flip20Observed">Fraction of consecutive runs of 20 equal decisions with at least one promotion (null with fewer than 20 decisions).</param>
public sealed record GateFlipRate(string Guard, int TestRows, double PerDecision, double Flip20, double? Flip20Observed);

/// <summary>One goal of issue 18 and whether the run met it.</summary>
public sealed record GateGoal(string Goal, double Value, double Limit, bool Met);

/// <summary>What <c>ctb bench gate</c> measured.</summary>
public sealed record GateSimulationResult(
    int DecisionsPerCell, double ChampionAuc, double Prevalence, double Correlation, int Resamples, ulong Seed,
    string LoadAverage, double Seconds, string DefaultGuard,
    IReadOnlyList<GateSimulationCell> Cells, IReadOnlyList<GateFlipRate> Flips, IReadOnlyList<GateGoal> Goals)
{
    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase });

    /// <summary>One table per test size: a row per guard, a column per true ΔAUC, then the 20-retrain flip probability.</summary>
    public string ToTable()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"Gate simulation: {DecisionsPerCell:N0} decisions per cell, champion AUC {ChampionAuc:0.00}, {Prevalence:P0} positive, " +
                      $"score noise correlation {Correlation:0.00}, {Resamples} resamples, seed {Seed}; {Seconds:0.0} s, load average {LoadAverage}");
        sb.AppendLine("Promotion rate by true ΔAUC (false promotions at ≤ 0, power above 0); flip20 = P(champion replaced within 20 equal retrains).");
        var deltas = Cells.Select(x => x.TrueDelta).Distinct().Order().ToList();
        foreach (var rows in Cells.Select(x => x.TestRows).Distinct().Order())
        {
            sb.AppendLine();
            sb.Append($"{rows.ToString("N0", c)} test rows".PadRight(30));
            foreach (var d in deltas) sb.Append(d.ToString("+0.000;-0.000;0.000", c).PadLeft(9));
            sb.AppendLine("   flip20");
            foreach (var guard in Cells.Select(x => x.Guard).Distinct())
            {
                sb.Append((guard == DefaultGuard ? guard + " (default)" : guard).PadRight(30));
                foreach (var d in deltas)
                    sb.Append(Percent(Cells.Single(x => x.Guard == guard && x.TestRows == rows && x.TrueDelta == d).Rate).PadLeft(9));
                var flip = Flips.Single(f => f.Guard == guard && f.TestRows == rows);
                sb.AppendLine(Percent(flip.Flip20).PadLeft(9));
            }
        }
        sb.AppendLine();
        double spread = 1.96 * Math.Sqrt(0.05 * 0.95 / DecisionsPerCell);
        sb.AppendLine($"Each rate comes from {DecisionsPerCell:N0} decisions: a true 5% rate reads between {Percent(Math.Max(0, 0.05 - spread))} and {Percent(0.05 + spread)} in 95% of runs.");
        foreach (var g in Goals)
            sb.AppendLine($"{(g.Met ? "met" : "NOT met")}: {g.Goal}: {Percent(g.Value)} (limit {Percent(g.Limit)})");
        return sb.ToString().TrimEnd();
    }

    static string Percent(double x) => (100 * x).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}

/// <summary>
/// <c>ctb bench gate</c>: seeded synthetic champion/candidate pairs at known true ΔAUC, decided by the gate's own
/// figures (<see cref="AucComparison"/>, <see cref="RetrainGuard"/>) under each rule and guard. Scores are binormal:
/// score = μ·label + noise, the two models' noises correlated, so the true AUC is Φ(μ/√2).
/// </summary>
public static class GateSimulation
{
    public static readonly double[] TrueDeltas = [-0.01, -0.005, 0, 0.005, 0.01, 0.02];
    public static readonly int[] TestSizes = [2000, 5000, 10000];
    const double ChampionAuc = 0.90, Prevalence = 0.24, Correlation = 0.9;
    const int Retrains = 20;

    /// <summary>The rules and guards compared, by name; the first is the seed's rule alone.</summary>
    public static IReadOnlyList<(string Name, GateOptions Options)> Guards(GateOptions baseline) =>
    [
        ("rule only (win ≥ 95%)", baseline with { Guard = baseline.Guard with { Kind = RetrainGuardKind.None } }),
        ("margin 0.002", baseline with { Guard = baseline.Guard with { Kind = RetrainGuardKind.Margin, Margin = 0.002 } }),
        ("power 90%", baseline with { Guard = baseline.Guard with { Kind = RetrainGuardKind.Power, Power = 0.9 } }),
        ("alpha 0.05 over 20", baseline with { Guard = new RetrainGuardOptions() }),
        ("alpha 0.10 over 20", baseline with { Guard = new RetrainGuardOptions { TenureAlpha = 0.10 } }),
    ];

    public static GateSimulationResult Run(int decisionsPerCell, int resamples = 1000, ulong seed = 18, IProgress<string>? progress = null)
    {
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        var clock = Stopwatch.StartNew();
        var baseline = new GateOptions { Resamples = resamples };
        var guards = Guards(baseline);
        var promoted = new Dictionary<(string, int, double), int>();
        var equalRuns = new Dictionary<(string, int), List<bool>>();
        int cell = 0, cells = TestSizes.Length * TrueDeltas.Length;
        foreach (var rows in TestSizes)
            foreach (var delta in TrueDeltas)
            {
                progress?.Report($"gate simulation: cell {++cell}/{cells} ({rows:N0} rows, true ΔAUC {delta:+0.000;-0.000;0.000})");
                for (int k = 0; k < decisionsPerCell; k++)
                {
                    ulong decisionSeed = seed * 1_000_003UL + (ulong)(rows * 31 + (int)Math.Round(delta * 1000) + 100) * 65_537UL + (ulong)k;
                    var (labels, candidate, champion) = Pair(rows, delta, decisionSeed);
                    var bootstrap = BootstrapComparison.Run(labels, candidate, champion, resamples, decisionSeed);
                    var deLong = DeLong.Compare(labels, candidate, champion);
                    var d = AucComparison.Of(bootstrap, deLong, baseline.BootstrapRatio);
                    foreach (var (name, options) in guards)
                    {
                        bool promote = d.RulePasses(bootstrap) && RetrainGuard.Check(options, d).Verdict != CriterionVerdict.Block;
                        promoted[(name, rows, delta)] = promoted.GetValueOrDefault((name, rows, delta)) + (promote ? 1 : 0);
                        if (delta == 0)
                        {
                            if (!equalRuns.TryGetValue((name, rows), out var list)) equalRuns[(name, rows)] = list = [];
                            list.Add(promote);
                        }
                    }
                }
            }

        var resultCells = promoted.Select(p => new GateSimulationCell(p.Key.Item1, p.Key.Item2, p.Key.Item3, decisionsPerCell, p.Value))
            .OrderBy(x => x.TestRows).ThenBy(x => x.TrueDelta).ToList();
        var flips = equalRuns.Select(e =>
        {
            double rate = (double)e.Value.Count(x => x) / e.Value.Count;
            var chains = e.Value.Chunk(Retrains).Where(ch => ch.Length == Retrains).ToList();
            return new GateFlipRate(e.Key.Item1, e.Key.Item2, rate, 1 - Math.Pow(1 - rate, Retrains),
                chains.Count == 0 ? null : (double)chains.Count(ch => ch.Any(x => x)) / chains.Count);
        }).ToList();

        string rule = guards[0].Name, defaultGuard = guards[3].Name;
        double Rate(string g, Func<GateSimulationCell, bool> where) => resultCells.Where(x => x.Guard == g).Where(where).Max(x => x.Rate);
        var goals = new List<GateGoal>
        {
            Goal("truly worse candidates promoted by the rule (worst cell)", Rate(rule, x => x.TrueDelta < 0), 0.005, below: true),
            Goal("equal candidates promoted by the rule per decision (worst size)", Rate(rule, x => x.TrueDelta == 0), 0.05, below: true),
            Goal($"flip over 20 equal retrains with the default guard ({defaultGuard}, worst size)",
                flips.Where(f => f.Guard == defaultGuard).Max(f => f.Flip20), 0.10, below: true),
            Goal($"power at +0.01 with 5,000 test rows with the default guard",
                resultCells.Single(x => x.Guard == defaultGuard && x.TestRows == 5000 && x.TrueDelta == 0.01).Rate, 0.60, below: false),
        };
        return new GateSimulationResult(decisionsPerCell, ChampionAuc, Prevalence, Correlation, resamples, seed, load,
            clock.Elapsed.TotalSeconds, defaultGuard, resultCells, flips, goals);
    }

    static GateGoal Goal(string goal, double value, double limit, bool below) => new(goal, value, limit, below ? value <= limit : value >= limit);

    /// <summary>Labels and two binormal scores whose true AUCs are <see cref="ChampionAuc"/> and ChampionAuc + <paramref name="trueDelta"/>.</summary>
    public static (bool[] Labels, double[] Candidate, double[] Champion) Pair(int rows, double trueDelta, ulong seed)
    {
        var random = new Random((int)(seed % int.MaxValue));
        double championShift = Math.Sqrt(2) * NormalDistribution.Quantile(ChampionAuc);
        double candidateShift = Math.Sqrt(2) * NormalDistribution.Quantile(ChampionAuc + trueDelta);
        double rest = Math.Sqrt(1 - Correlation * Correlation);
        var labels = new bool[rows];
        var candidate = new double[rows];
        var champion = new double[rows];
        for (int i = 0; i < rows; i++)
        {
            labels[i] = random.NextDouble() < Prevalence;
            double shared = Gaussian(random), own = Gaussian(random);
            champion[i] = (labels[i] ? championShift : 0) + shared;
            candidate[i] = (labels[i] ? candidateShift : 0) + Correlation * shared + rest * own;
        }
        return (labels, candidate, champion);
    }

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
