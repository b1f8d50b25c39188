namespace CtBuild.Tuning;

/// <summary>
/// Shows pruned trials to <paramref name="inner"/> the way Optuna's TPE ranks them: after every completed trial, the
/// ones that reached a higher rung first, and within a rung by their value there. Each pruned trial is handed over as a
/// completed one whose value keeps that order and lies below (for maximising) every completed value; so pruned trials
/// count towards the startup trials, as in Optuna (where they count as finished), and the best of them fill the "good"
/// group only when too few trials completed. Without pruned trials the inner sampler sees the trials unchanged.
/// </summary>
public sealed class PrunedRankingSampler(ISampler inner) : ISampler
{
    public ISampler Inner { get; } = inner;

    public IReadOnlyDictionary<string, object> Sample(SearchSpace space, IReadOnlyList<FrozenTrial> trials, StudyDirection direction) =>
        Inner.Sample(space, Ranked(trials, direction), direction);

    /// <summary>The trials with each pruned one turned into a completed one with its rank-keeping stand-in value.</summary>
    public static IReadOnlyList<FrozenTrial> Ranked(IReadOnlyList<FrozenTrial> trials, StudyDirection direction)
    {
        if (!trials.Any(t => t.State == TrialState.Pruned)) return trials;
        double Up(double v) => direction == StudyDirection.Maximize ? v : -v; // larger is better from here on
        var seen = trials.Where(t => t.State == TrialState.Complete).Select(t => Up(t.Value!.Value))
            .Concat(trials.Where(t => t.State == TrialState.Pruned).SelectMany(t => t.Intermediate.Values.Select(Up)))
            .Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        double low = seen.Min(), span = seen.Max() - low + 1;
        int top = trials.Where(t => t.State == TrialState.Pruned).Select(LastRung).Max();
        return trials.Select(t =>
        {
            if (t.State != TrialState.Pruned) return t;
            int rung = LastRung(t);
            double within = rung < 0 || !double.IsFinite(t.Intermediate[rung]) ? 0 : Up(t.Intermediate[rung]) - low; // in [0, span)
            double standIn = low - span * (top - rung + 1) + within; // below every completed value; a higher rung ranks higher
            return t with { State = TrialState.Complete, Value = direction == StudyDirection.Maximize ? standIn : -standIn };
        }).ToArray();
    }

    private static int LastRung(FrozenTrial t) => t.Intermediate.Count == 0 ? -1 : t.Intermediate.Keys.Max();
}
