namespace CtBuild.Evaluation;

/// <summary>Outcome of a paired, stratified bootstrap of ΔAUC = candidate − champion.</summary>
/// <param name="CandidateAuc">Candidate AUC on the full test set.</param>
/// <param name="ChampionAuc">Champion AUC on the full test set.</param>
/// <param name="Resamples">Number of resamples drawn.</param>
/// <param name="Seed">Seed of the resample streams.</param>
/// <param name="DeltaAucs">ΔAUC of each resample, in resample order (for the report's histogram).</param>
/// <param name="Wins">Resamples where the candidate AUC is strictly greater; a tie is not a win.</param>
/// <param name="WinRatio">Wins / Resamples.</param>
/// <param name="MeanDelta">Mean of <paramref name="DeltaAucs"/>.</param>
/// <param name="DeltaLower">2.5th percentile of ΔAUC (linear interpolation between order statistics).</param>
/// <param name="DeltaUpper">97.5th percentile of ΔAUC.</param>
public sealed record BootstrapResult(
    double CandidateAuc, double ChampionAuc, int Resamples, ulong Seed,
    IReadOnlyList<double> DeltaAucs, int Wins, double WinRatio,
    double MeanDelta, double DeltaLower, double DeltaUpper);

/// <summary>
/// Paired, stratified bootstrap of the AUC difference between a candidate and a champion scored on the
/// same rows: every resample keeps the class counts and uses the same rows for both models.
/// </summary>
public static class BootstrapComparison
{
    /// <summary>
    /// Fast path: each model is sorted once; a resample is drawn as multiplicity counts and its AUC is a
    /// weighted Mann-Whitney pass over the pre-sorted order, O(n) per resample, resamples in parallel.
    /// Deterministic for a given seed whatever the parallelism.
    /// </summary>
    public static BootstrapResult Run(
        bool[] labels, double[] candidateScores, double[] championScores,
        int resamples = 1000, ulong seed = 42, int maxParallelism = -1)
    {
        var (positives, negatives) = CheckInputs(labels, candidateScores, championScores, resamples);
        var (candidate, champion) = ScoreOrder.OfBoth(candidateScores, championScores);
        return Run(labels, candidate, champion, positives, negatives, resamples, seed, maxParallelism);
    }

    internal static BootstrapResult Run(
        bool[] labels, ScoreOrder candidate, ScoreOrder champion, int positives, int negatives,
        int resamples, ulong seed, int maxParallelism)
    {
        var resampler = StratifiedResampler.InOrder(labels, candidate, seed);
        WeightedOrder? candidateOrder = null, championOrder = null;
        Parallel.Invoke(
            () => candidateOrder = WeightedOrder.Build(labels, candidate, resampler),
            () => championOrder = WeightedOrder.Build(labels, champion, resampler));
        var twiceU = new (long Candidate, long Champion)[resamples];
        int batches = (resamples + WeightedOrder.Lanes - 1) / WeightedOrder.Lanes;

        Parallel.For(0, batches, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism },
            () => new PackedCounts(labels.Length),
            (batch, _, counts) =>
            {
                int first = batch * WeightedOrder.Lanes;
                int lanes = Math.Min(WeightedOrder.Lanes, resamples - first);
                for (int lane = 0; lane < lanes; lane++)
                    counts.Draw(resampler, first + lane, lane);
                int wrapped = counts.Pack(resampler.Rows, lanes);
                Span<long> candidateU = stackalloc long[WeightedOrder.Lanes], championU = stackalloc long[WeightedOrder.Lanes];
                candidateOrder!.TwiceU(counts.Packed, candidateU);
                championOrder!.TwiceU(counts.Packed, championU);
                for (int lane = 0; lane < lanes; lane++)
                    twiceU[first + lane] = (wrapped & (1 << lane)) == 0
                        ? (candidateU[lane], championU[lane])
                        : NaiveTwiceU(labels, candidate.ScoresByRow, champion.ScoresByRow, resampler, first + lane);
                return counts;
            },
            _ => { });

        return Summarise(twiceU, positives, negatives,
            Auc.FromTwiceU(candidate.TwiceU(labels), positives, negatives),
            Auc.FromTwiceU(champion.TwiceU(labels), positives, negatives), seed);
    }

    /// <summary>
    /// The naive way, for benchmarks and as the test oracle: materialise each resample's rows, re-sort
    /// them for each model and compute the AUC. Same seed, same draws, same ΔAUCs as <see cref="Run"/>.
    /// </summary>
    public static BootstrapResult RunNaive(
        bool[] labels, double[] candidateScores, double[] championScores,
        int resamples = 1000, ulong seed = 42, int maxParallelism = -1)
    {
        var (positives, negatives) = CheckInputs(labels, candidateScores, championScores, resamples);
        var resampler = StratifiedResampler.InOrder(labels, ScoreOrder.Of(candidateScores), seed);
        var twiceU = new (long Candidate, long Champion)[resamples];
        Parallel.For(0, resamples, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism },
            r => twiceU[r] = NaiveTwiceU(labels, candidateScores, championScores, resampler, r));
        return Summarise(twiceU, positives, negatives,
            Auc.Compute(labels, candidateScores), Auc.Compute(labels, championScores), seed);
    }

    private static (long, long) NaiveTwiceU(
        bool[] labels, double[] candidateScores, double[] championScores, StratifiedResampler resampler, int resample)
    {
        int[] rows = resampler.DrawRows(resample);
        var sampleLabels = new bool[rows.Length];
        var candidate = new double[rows.Length];
        var champion = new double[rows.Length];
        for (int k = 0; k < rows.Length; k++)
        {
            sampleLabels[k] = labels[rows[k]];
            candidate[k] = candidateScores[rows[k]];
            champion[k] = championScores[rows[k]];
        }
        return (ScoreOrder.Of(candidate).TwiceU(sampleLabels), ScoreOrder.Of(champion).TwiceU(sampleLabels));
    }

    private static BootstrapResult Summarise(
        (long Candidate, long Champion)[] twiceU, int positives, int negatives,
        double candidateAuc, double championAuc, ulong seed)
    {
        var deltas = new double[twiceU.Length];
        int wins = 0;
        double sum = 0;
        for (int r = 0; r < twiceU.Length; r++)
        {
            // Both AUCs share the denominator 2·P·N, so comparing the integers is an exact comparison.
            if (twiceU[r].Candidate > twiceU[r].Champion) wins++;
            deltas[r] = (twiceU[r].Candidate - twiceU[r].Champion) / (2.0 * positives * negatives);
            sum += deltas[r];
        }
        var sorted = (double[])deltas.Clone();
        Array.Sort(sorted);
        return new BootstrapResult(candidateAuc, championAuc, twiceU.Length, seed, deltas, wins,
            (double)wins / twiceU.Length, sum / twiceU.Length, Percentile(sorted, 0.025), Percentile(sorted, 0.975));
    }

    /// <summary>Percentile of sorted values by linear interpolation between order statistics (R type 7).</summary>
    internal static double Percentile(double[] sorted, double fraction)
    {
        double h = (sorted.Length - 1) * fraction;
        int lower = (int)Math.Floor(h);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (h - lower) * (sorted[upper] - sorted[lower]);
    }

    private static (int Positives, int Negatives) CheckInputs(
        bool[] labels, double[] candidateScores, double[] championScores, int resamples)
    {
        if (resamples < 1)
            throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "The bootstrap needs at least one resample.");
        InputChecks.Check(labels, championScores, "champion scores");
        return InputChecks.Check(labels, candidateScores, "candidate scores");
    }
}
