namespace CtBuild.Tuning;

/// <summary>
/// Tree-structured Parzen Estimator, as Hyperopt and Optuna define it (univariate). After
/// <see cref="TpeOptions.NStartupTrials"/> random trials, the trials are split into the best γ(n) ("below") and
/// the rest ("above"); for each parameter, Parzen estimators l(x) and g(x) are fitted to the two groups,
/// <see cref="TpeOptions.NEiCandidates"/> candidates are drawn from l and the one maximising log l(x) − log g(x) wins.
/// </summary>
/// <remarks>
/// Conditional parameters are sampled top-down: a choice is a categorical parameter, and the parameters of the chosen
/// branch are fitted only to the trials that took that branch (Hyperopt-style). Failed trials are ignored. Running
/// trials get the worst completed value (constant liar) and so land in the "above" group; a suggestion still equal to
/// a running trial is redrawn (<see cref="TpeOptions.DuplicateRetries"/>). γ is Optuna's (<see cref="DefaultGamma"/>),
/// not Hyperopt's 0.25·√n: with 100 trials it keeps 10 good ones rather than 3. Seeded runs are deterministic
/// when trials are asked and told in the same order (parallelism 1).
/// </remarks>
public sealed class TpeSampler : ISampler
{
    private readonly ulong _seed;

    public TpeSampler(int? seed = null, TpeOptions? options = null)
    {
        Options = options ?? new TpeOptions();
        Options.Validate();
        _seed = seed is { } s ? (ulong)s : SamplerRandom.AnySeed();
    }

    public TpeOptions Options { get; }

    /// <summary>Optuna's default_gamma: the best min(⌈0.1·n⌉, 25) trials are "good".</summary>
    public static int DefaultGamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), 25);

    /// <summary>
    /// Optuna's default_weights, oldest first: equal weights below 25 trials; beyond that the latest 25 weigh 1 and
    /// older ones ramp down linearly from 1 to 1/n, so the estimate follows the search as it moves.
    /// </summary>
    public static double[] DefaultWeights(int n)
    {
        if (n < 25) return Enumerable.Repeat(1.0, n).ToArray();
        int ramp = n - 25;
        return Enumerable.Range(0, ramp)
            .Select(i => ramp == 1 ? 1.0 / n : 1.0 / n + (1 - 1.0 / n) * i / (ramp - 1))
            .Concat(Enumerable.Repeat(1.0, 25))
            .ToArray();
    }

    public IReadOnlyDictionary<string, object> Sample(SearchSpace space, IReadOnlyList<FrozenTrial> trials, StudyDirection direction)
    {
        var values = new Dictionary<string, object>();
        var random = SamplerRandom.For(_seed, trials);
        var completed = trials.Where(t => t.State == TrialState.Complete).ToArray();
        if (completed.Length < Options.NStartupTrials)
        {
            RandomSampler.SampleInto(space, values, random);
            return values;
        }
        var observations = Split(trials, completed, direction);
        SampleInto(space, observations, values, random);
        // On small grids l(x) can outweigh the lie about a running trial, and the argmax lands on it again. Redraw a
        // few times; if the suggestion still repeats a running trial, explore with prior draws instead of evaluating it twice.
        var running = Options.ConstantLiar ? trials.Where(t => t.State == TrialState.Running).ToArray() : [];
        bool Repeats() => running.Any(t => SameValues(t.Params, values));
        for (int retry = 0; retry < Options.DuplicateRetries && Repeats(); retry++)
        {
            values.Clear();
            SampleInto(space, observations, values, random);
        }
        for (int retry = 0; retry < Options.DuplicateRetries && Repeats(); retry++)
        {
            values.Clear();
            RandomSampler.SampleInto(space, values, random);
        }
        return values;
    }

    private static bool SameValues(IReadOnlyDictionary<string, object> a, IReadOnlyDictionary<string, object> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && Equals(v, p.Value));

    /// <summary>An observed trial: its parameters and whether it is among the good ones.</summary>
    private sealed record Observation(int Number, IReadOnlyDictionary<string, object> Params, bool Below);

    private Observation[] Split(IReadOnlyList<FrozenTrial> trials, FrozenTrial[] completed, StudyDirection direction)
    {
        // Loss is lower-is-better whatever the direction.
        double Loss(double value) => direction == StudyDirection.Minimize ? value : -value;
        double worst = completed.Max(t => Loss(t.Value!.Value));
        var scored = completed.Select(t => (Trial: t, Loss: Loss(t.Value!.Value)));
        if (Options.ConstantLiar)
            scored = scored.Concat(trials.Where(t => t.State == TrialState.Running).Select(t => (Trial: t, Loss: worst)));
        var ranked = scored.OrderBy(s => s.Loss).ThenBy(s => s.Trial.Number).ToArray();
        int nBelow = Math.Clamp(Options.Gamma(ranked.Length), 1, ranked.Length);
        return ranked.Select((s, rank) => new Observation(s.Trial.Number, s.Trial.Params, rank < nBelow))
            .OrderBy(o => o.Number)
            .ToArray();
    }

    private void SampleInto(SearchSpace space, Observation[] observations, Dictionary<string, object> values, Random random) =>
        space.Sample(observations, values, (o, name, distribution) => SampleParameter(name, distribution, o, random),
            // A branch's parameters learn only from the trials that took this branch.
            (o, choice, label) => o.Where(t => t.Params.TryGetValue(choice, out var v) && Equals(v, label)).ToArray());

    private object SampleParameter(string name, Distribution distribution, Observation[] observations, Random random)
    {
        var below = InternalValues(name, distribution, observations.Where(o => o.Below));
        var above = InternalValues(name, distribution, observations.Where(o => !o.Below));
        var l = new ParzenEstimator(distribution, below, DefaultWeights(below.Count), Options.Estimator);
        var g = new ParzenEstimator(distribution, above, DefaultWeights(above.Count), Options.Estimator);

        double best = double.NaN, bestScore = double.NegativeInfinity;
        for (int i = 0; i < Options.NEiCandidates; i++)
        {
            double x = l.Sample(random);
            double score = l.LogPdf(x) - g.LogPdf(x);
            if (score > bestScore || double.IsNaN(best)) (best, bestScore) = (x, score);
        }
        return distribution.ToExternal(best);
    }

    // Values this distribution can hold; a trial made under another space (a changed config) is skipped.
    private static List<double> InternalValues(string name, Distribution distribution, IEnumerable<Observation> observations)
    {
        var values = new List<double>();
        foreach (var o in observations)
        {
            if (!o.Params.TryGetValue(name, out var value)) continue;
            if (distribution is CategoricalDistribution c && !c.Choices.Contains(value)) continue;
            if (distribution is not CategoricalDistribution && value is not (int or double)) continue;
            double x = distribution.ToInternal(value);
            if (x >= distribution.InternalLow && x <= distribution.InternalHigh) values.Add(x);
        }
        return values;
    }
}
