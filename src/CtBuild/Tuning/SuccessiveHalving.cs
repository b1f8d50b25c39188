using System.Globalization;
using CtBuild.Evaluation;

namespace CtBuild.Tuning;

/// <summary>
/// Asynchronous successive halving (ASHA, as Optuna's <c>SuccessiveHalvingPruner</c>): a trial is trained on a growing
/// share of the training rows, one rung at a time (e.g. 1/27, 1/9, 1/3, 1), reports each rung's value, and goes on to
/// the next rung only while it is among the best 1/<see cref="ReductionFactor"/> of the trials that reached that rung
/// so far. Decisions read the rung values from the study's storage, so they hold across workers and machines, and no
/// worker ever waits for a rung to fill: a trial is judged against whoever got there before it.
/// </summary>
/// <param name="Fractions">The share of training rows per rung, increasing, the last one 1 (all rows).</param>
/// <param name="ReductionFactor">η: the best 1/η at a rung go on.</param>
public sealed record SuccessiveHalving(IReadOnlyList<double> Fractions, int ReductionFactor = 3)
{
    /// <summary>Rungs 1/27, 1/9, 1/3, 1 with η = 3.</summary>
    public static SuccessiveHalving Standard { get; } = new([1.0 / 27, 1.0 / 9, 1.0 / 3, 1.0]);

    private const ulong SubsampleStream = 0x5AB5; // a stream of its own, so the rows never follow the sampler's draws

    /// <summary>Below this many training rows, <c>tune.fidelity: "auto"</c> trains every trial on all rows.</summary>
    public const int AutoThreshold = 500_000;

    /// <summary>The rung trained on all rows: its value is the trial's value.</summary>
    public int LastRung => Fractions.Count - 1;

    /// <summary>
    /// Whether the trial <paramref name="number"/>, having reported <paramref name="rung"/>, goes on to the next rung:
    /// Optuna's rule. Of the n values at that rung (the trial's own included), it must be at least the ⌊n/η⌋-th best;
    /// while n &lt; η it must be the best so far (so the very first trial at a rung always goes on). Abandoned trials do not count.
    /// </summary>
    /// <exception cref="InvalidOperationException">The trial has not reported that rung.</exception>
    public bool Promotes(IReadOnlyList<FrozenTrial> trials, int number, int rung, StudyDirection direction)
    {
        if (rung >= LastRung) return false;
        var own = trials.FirstOrDefault(t => t.Number == number);
        if (own is null || !own.Intermediate.TryGetValue(rung, out var value))
            throw new InvalidOperationException($"Trial #{number} has no value at rung {rung}; report it before asking whether it goes on.");
        // An abandoned trial's rung values stay in its record but do not compete: its retry reports them again.
        var competing = trials.Where(t => !t.IsAbandoned && t.Intermediate.ContainsKey(rung)).Select(t => t.Intermediate[rung]).ToList();
        int index = Math.Max(0, competing.Count / ReductionFactor - 1);
        // Best first, whatever the direction.
        var ranked = direction == StudyDirection.Maximize ? competing.OrderByDescending(v => v).ToList() : competing.Order().ToList();
        return direction == StudyDirection.Maximize ? value >= ranked[index] : value <= ranked[index];
    }

    /// <summary>
    /// Runs one trial up the rungs: <paramref name="fitRung"/>(r) trains and scores rung r, its value is reported to the
    /// study, and the trial goes on while <see cref="Trial.ShouldPrune"/> says so. Returns the training seconds of all
    /// rungs once the last rung (all rows) is done; its value is the trial's value.
    /// </summary>
    /// <exception cref="TrialPrunedException">The trial stopped at a rung; carries the seconds spent.</exception>
    public double Climb(Trial trial, Func<int, (double Value, double Seconds)> fitRung)
    {
        double seconds = 0;
        for (int rung = 0; rung <= LastRung; rung++)
        {
            var (value, spent) = fitRung(rung);
            seconds += spent;
            trial.Report(rung, value);
            if (trial.ShouldPrune(rung))
                throw new TrialPrunedException($"pruned at rung {rung} ({FormatFraction(Fractions[rung])} of the rows): " +
                                               $"not among the best 1/{ReductionFactor} there") { Cost = seconds };
        }
        return seconds;
    }

    /// <summary>
    /// The training rows of every rung: a seeded permutation of 0..<paramref name="rows"/>−1 whose first ⌈rows·f⌉ entries
    /// are rung f, so each rung holds every row of the smaller rungs; each rung's indices are sorted (row order kept).
    /// The last rung is all rows. The same (rows, fractions, seed) give the same rows in every process.
    /// </summary>
    public IReadOnlyList<int[]> Subsamples(int rows, int seed)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        var random = new Xoshiro256x4((ulong)seed, SubsampleStream);
        for (int i = rows - 1; i > 0; i--) // Fisher–Yates
        {
            int j = (int)(random.NextDouble() * (i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return Fractions.Select(f =>
        {
            var take = f >= 1 ? rows : Math.Max(1, (int)Math.Ceiling(rows * f));
            var rung = order[..take];
            Array.Sort(rung);
            return rung;
        }).ToArray();
    }

    /// <summary>The fractions as written in the config and the report, e.g. <c>1/27, 1/9, 1/3, 1</c>.</summary>
    public override string ToString() => string.Join(", ", Fractions.Select(FormatFraction));

    /// <summary>A fraction as 1/k when it is one, else as a decimal.</summary>
    public static string FormatFraction(double f) =>
        f >= 1 ? "1" : Math.Abs(1 / f - Math.Round(1 / f)) < 1e-6 ? $"1/{Math.Round(1 / f).ToString(CultureInfo.InvariantCulture)}" : f.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// What a <c>tune.fidelity</c> setting means for <paramref name="trainRows"/> training rows: <c>off</c> (null),
    /// <c>auto</c> (<see cref="Standard"/> from <see cref="AutoThreshold"/> rows, else null), <c>on</c> (<see cref="Standard"/>),
    /// or explicit rungs (see <see cref="TryParse"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The setting is none of those; the message says what is accepted.</exception>
    public static SuccessiveHalving? ForSetting(string fidelity, int trainRows) => fidelity switch
    {
        "off" => null,
        "auto" => trainRows >= AutoThreshold ? Standard : null,
        "on" => Standard,
        _ => TryParse(fidelity, out var error) ?? throw new ArgumentException(
            $"tune.fidelity '{fidelity}' is not \"auto\", \"on\", \"off\" or a list of rungs like \"1/27, 1/9, 1/3, 1\": {error}."),
    };

    /// <summary>Null when <paramref name="fidelity"/> is a valid <c>tune.fidelity</c> setting, else what is wrong with it.</summary>
    public static string? Check(string fidelity) => fidelity is "auto" or "on" or "off" ? null
        : TryParse(fidelity, out var error) is null ? $"'{fidelity}' is not \"auto\", \"on\", \"off\" or a list of rungs like \"1/27, 1/9, 1/3, 1\": {error}." : null;

    /// <summary>
    /// Reads explicit rungs like <c>1/27, 1/9, 1/3, 1</c> or <c>0.1, 0.3, 1</c>: at least two, strictly increasing,
    /// each in (0, 1], the last 1. Null with <paramref name="error"/> saying what is wrong.
    /// </summary>
    public static SuccessiveHalving? TryParse(string text, out string? error)
    {
        var fractions = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            double? f = part.Split('/') switch
            {
                [var n] when double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) => v,
                [var n, var d] when double.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
                                    && double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out var b) && b != 0 => a / b,
                _ => null,
            };
            if (f is not { } value || !double.IsFinite(value) || value <= 0 || value > 1)
            {
                error = $"'{part}' is not a share of the training rows in (0, 1] like 1/9 or 0.25";
                return null;
            }
            fractions.Add(value);
        }
        error = fractions.Count < 2 ? "give at least two rungs, the last one 1 (all rows), e.g. \"1/9, 1/3, 1\""
            : fractions.Zip(fractions.Skip(1)).Any(p => p.Second <= p.First) ? "the rungs must grow strictly, e.g. \"1/9, 1/3, 1\""
            : fractions[^1] != 1 ? "the last rung must be 1 (all rows): the candidate is always trained on every training row"
            : null;
        return error is null ? new SuccessiveHalving(fractions) : null;
    }
}

/// <summary>Thrown by an objective to stop its trial at a rung (successive halving); the study records it as <see cref="TrialState.Pruned"/>.</summary>
public sealed class TrialPrunedException(string reason) : Exception(reason)
{
    /// <summary>Training seconds the trial spent on its rungs, recorded as its cost.</summary>
    public double? Cost { get; init; }
}
