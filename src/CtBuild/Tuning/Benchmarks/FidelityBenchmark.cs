using System.Diagnostics;
using System.Text.Json;
using CtBuild.Evaluation;
using CtBuild.Training;

namespace CtBuild.Tuning.Benchmarks;

/// <summary>One search of <see cref="FidelityBenchmark"/>: its trials and how its best valid AUC grew over wall time.</summary>
public sealed record FidelitySearch(string Name, int Trials, int Completed, int Pruned, int TimedOut, double Seconds, double BestAuc,
    IReadOnlyList<BestSoFar> Progress)
{
    /// <summary>Wall seconds until the best valid AUC first reached <paramref name="target"/>; null if it never did.</summary>
    public double? SecondsTo(double target) => Progress.FirstOrDefault(p => p.Best >= target) is { Best: > 0 } hit ? hit.Seconds : null;
}

/// <summary>The best valid AUC of a search after <paramref name="Seconds"/> of wall time.</summary>
public sealed record BestSoFar(double Seconds, double Best);

/// <summary>Plain TPE against the cost-aware start with successive halving, on the same generated rows.</summary>
public sealed record FidelityResult(int Rows, int Columns, int TrainRows, int ValidRows, string Rungs, FidelitySearch Plain, FidelitySearch Halving)
{
    public double? HalvingToPlainBest => Halving.SecondsTo(Plain.BestAuc);

    public double? HalvingToNearPlainBest => Halving.SecondsTo(Plain.BestAuc - 0.001);

    public string Format()
    {
        string S(double? s) => s is { } v ? $"{v,8:0.0} s" : "   never";
        string Ratio(double? s, double of) => s is { } v ? $"{v / of:0.00}" : "-";
        var plainToBest = Plain.SecondsTo(Plain.BestAuc);
        string Line(FidelitySearch s) =>
            $"  {s.Name,-28} {s.Trials,4} trials ({s.Completed} complete, {s.Pruned} pruned, {s.TimedOut} timed out)  {s.Seconds,8:0.0} s  best valid AUC {s.BestAuc:0.0000}";
        return string.Join(Environment.NewLine,
            $"Generated dataset: {Rows:N0} rows x {Columns} columns ({TrainRows:N0} train / {ValidRows:N0} valid), the workspace's search space",
            Line(Plain),
            Line(Halving),
            $"  rungs of the halving search: {Rungs} of the train rows, the best 1/3 go on",
            $"  plain TPE reached its best {Plain.BestAuc:0.0000} after            {S(plainToBest)}",
            $"  halving reached it after                          {S(HalvingToPlainBest)}   = {Ratio(HalvingToPlainBest, Plain.Seconds)} of plain's wall time (goal <= 0.33)",
            $"  halving reached it - 0.001 ({Plain.BestAuc - 0.001:0.0000}) after           {S(HalvingToNearPlainBest)}   = {Ratio(HalvingToNearPlainBest, Plain.Seconds)} of plain's wall time");
    }
}

/// <summary>
/// <c>ctb bench tune --rows N</c>: a deterministic generated dataset (numeric and categorical columns, a known signal
/// with interactions and noise) searched twice with the workspace's space: plain TPE for <c>trials</c> trials, then
/// TPE with the low-cost start and successive halving, which stops as soon as its best valid AUC reaches plain TPE's
/// best (or after 3 × <c>trials</c> trials). Both run on every core with Tune's trial timeout; figures are wall times.
/// </summary>
public static class FidelityBenchmark
{
    public const int Columns = 20;
    private const int NumericColumns = 14;
    private static readonly int[] Cardinalities = [4, 8, 12, 25, 50, 6];

    public static FidelityResult Run(JsonElement space, int rows, int trials, int seed, int parallelism, IProgress<string>? log = null)
    {
        var parsed = SearchSpaceParser.Parse(space);
        var (train, valid) = Generate(rows, seed);
        log?.Report($"generated {rows:N0} rows; featurizing");
        var halving = SuccessiveHalving.Standard;
        var trainer = new TrialTrainer(train, valid, seed, halving.Subsamples(train.Rows.Count, seed).SkipLast(1).ToArray());
        trainer.Fit(ml => TrainerCatalog.Create(ml, LowCostStart.Points(parsed).FirstOrDefault() ?? new RandomSampler(0).Sample(parsed, [], StudyDirection.Maximize)), 0, rung: 0); // warm-up: native libraries load once

        var plain = Search("plain TPE", new TpeSampler(seed), null, trials, double.PositiveInfinity);
        var fast = Search("low-cost start + halving", new PrunedRankingSampler(new StartPointsSampler(new TpeSampler(seed), LowCostStart.Points(parsed))),
            halving, trials * 3, plain.BestAuc);
        return new FidelityResult(rows, Columns, train.Rows.Count, valid.Rows.Count, halving.ToString(), plain, fast);

        FidelitySearch Search(string name, ISampler sampler, SuccessiveHalving? pruner, int maxEvals, double stopAt)
        {
            var study = new Study(parsed, sampler) { Pruner = pruner };
            var clock = Stopwatch.StartNew();
            var progress = new List<BestSoFar>();
            using var reached = new CancellationTokenSource();
            TrialOutcome Objective(Trial trial, CancellationToken token)
            {
                double auc = double.NaN;
                (double, double) Fit(int? rung)
                {
                    var watch = Stopwatch.StartNew();
                    auc = trainer.Fit(ml => TrainerCatalog.Create(ml, trial.Params, threads: parallelism > 1 ? 1 : null), seed + trial.Number, rung, token).Auc;
                    return (auc, watch.Elapsed.TotalSeconds);
                }
                var seconds = pruner is null ? Fit(null).Item2 : pruner.Climb(trial, r => Fit(r));
                return new TrialOutcome(auc) { Cost = seconds };
            }
            var result = study.Optimize(Objective, new StudyOptions
            {
                MaxEvals = maxEvals,
                Parallelism = parallelism,
                TrialTimeout = TrialTimeouts.Derived(multiple: 5, floor: TimeSpan.FromSeconds(60), minCompleted: 3),
            }, new Progress(p =>
            {
                lock (progress) progress.Add(new BestSoFar(clock.Elapsed.TotalSeconds, p.BestValue ?? 0));
                log?.Report($"{name}: trial {p.Finished}/{maxEvals} {p.Trial.State} best {p.BestValue ?? 0:0.0000} at {clock.Elapsed.TotalSeconds:0.0} s");
                if (p.BestValue >= stopAt) reached.Cancel();
            }), reached.Token);
            var seconds = clock.Elapsed.TotalSeconds;
            // Trials still running when the target was reached are cancelled: they do not count.
            var all = result.Trials.Where(t => !(t.Error ?? "").StartsWith("cancelled", StringComparison.Ordinal)).ToArray();
            return new FidelitySearch(name, all.Length,
                all.Count(t => t.State == TrialState.Complete), all.Count(t => t.State == TrialState.Pruned), all.Count(t => t.State == TrialState.TimedOut),
                seconds, result.BestTrial?.Value ?? double.NaN, progress.OrderBy(p => p.Seconds).ToArray());
        }
    }

    // Called synchronously on the reporting worker's thread (System.Progress would post to the thread pool, late).
    private sealed class Progress(Action<TrialProgress> report) : IProgress<TrialProgress>
    {
        public void Report(TrialProgress value) => report(value);
    }

    /// <summary>
    /// Rows with 14 numeric and 6 categorical columns and a label drawn from a logistic model with main effects,
    /// interactions, a threshold and category effects (about 30% positives); 70% train, 15% valid (the rest unused).
    /// The same (rows, seed) give the same rows everywhere (CtBuild's own generator).
    /// </summary>
    public static (ModelInput Train, ModelInput Valid) Generate(int rows, int seed)
    {
        var random = new Xoshiro256x4((ulong)seed, 0xB3C4);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        // Fixed effects per category level, drawn once.
        var effects = Cardinalities.Select(k => Enumerable.Range(0, k).Select(_ => Normal() * 0.6).ToArray()).ToArray();
        var all = new List<ModelInputRow>(rows);
        for (int i = 0; i < rows; i++)
        {
            var x = new float[NumericColumns];
            for (int j = 0; j < NumericColumns; j++) x[j] = (float)Normal();
            var levels = Cardinalities.Select(k => Math.Min(k - 1, (int)(random.NextDouble() * k))).ToArray();
            double logit = -1.2 + 0.9 * x[0] - 0.7 * x[1] + 0.6 * x[2] * x[3] + Math.Sin(2 * x[4]) + 0.8 * (x[5] > 0.5 ? 1 : 0)
                           + 0.4 * x[6] * x[6] - 0.3 * Math.Abs(x[7]) + 0.5 * x[8] * (levels[0] == 1 ? 1 : -0.5)
                           + effects[1][levels[1]] + effects[3][levels[3]] + effects[4][levels[4]] + 0.5 * effects[5][levels[5]] * x[9];
            bool label = random.NextDouble() < 1 / (1 + Math.Exp(-logit));
            all.Add(new ModelInputRow
            {
                Label = label,
                Numeric = x,
                Categorical = levels.Select((l, c) => $"c{c}_{l}").ToArray(),
            });
        }
        var signature = new FeatureSignature(Enumerable.Range(0, NumericColumns).Select(j => $"x{j}").ToArray(),
            Enumerable.Range(0, Cardinalities.Length).Select(c => $"cat{c}").ToArray(), "label");
        int trainRows = (int)(rows * 0.70), validRows = (int)(rows * 0.15);
        return (new ModelInput(all.Take(trainRows).ToArray(), signature), new ModelInput(all.Skip(trainRows).Take(validRows).ToArray(), signature));
    }
}
