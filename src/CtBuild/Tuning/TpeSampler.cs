namespace CtBuild.Tuning;

/// <summary>
/// Tree-structured Parzen Estimator, as Hyperopt and Optuna define it (by default Optuna 5's: multivariate, see
/// <see cref="TpeOptions"/>). After
/// <see cref="TpeOptions.NStartupTrials"/> random trials, the trials are split into the best γ(n) ("below") and
/// the rest ("above"); for each level of the space's parameters (or each parameter, univariate), Parzen estimators l(x) and g(x) are fitted to the two groups,
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
        if (completed.Length < Math.Max(Options.NStartupTrials, 1))
        {
            RandomSampler.SampleInto(space, values, random);
            return values;
        }
        var observations = Split(trials, completed, direction);
        double costWeight = CostWeight(trials);
        SampleInto(space, observations, values, random, costWeight);
        // On small grids l(x) can outweigh the lie about a running trial, and the argmax lands on it again. Redraw a
        // few times; if the suggestion still repeats a running trial, explore with prior draws instead of evaluating it twice.
        var running = Options.ConstantLiar ? trials.Where(t => t.State == TrialState.Running).ToArray() : [];
        bool Repeats() => running.Any(t => SameValues(t.Params, values));
        for (int retry = 0; retry < Options.DuplicateRetries && Repeats(); retry++)
        {
            values.Clear();
            SampleInto(space, observations, values, random, costWeight);
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

    /// <summary>An observed trial: its parameters, whether it is among the good ones, and what it cost (finished trials).</summary>
    private sealed record Observation(int Number, IReadOnlyDictionary<string, object> Params, bool Below, double? Cost);

    /// <summary>How much a branch's cost counts against its expected improvement now: 0 without <see cref="TpeOptions.CostAware"/>.</summary>
    private double CostWeight(IReadOnlyList<FrozenTrial> trials)
    {
        if (!Options.CostAware) return 0;
        if (Options.CostBudgetTrials is not { } budget) return 1;
        int finished = trials.Count(t => t.State.IsResult());
        return Math.Clamp(1 - (double)finished / budget, 0, 1);
    }

    private static double? CostOf(FrozenTrial t) =>
        t.State.IsResult() ? t.Cost ?? t.Duration?.TotalSeconds : null;

    /// <summary>
    /// log EI(x) up to a constant, from TPE's score s = log l(x) − log g(x): EI ∝ 1 / (γ + (1 − γ)·e^(−s)) with γ the share of
    /// good observations (Bergstra et al. 2011), so that a cost can be set against it as EI per second.
    /// </summary>
    internal static double LogExpectedImprovement(double score, double goodShare)
    {
        double a = Math.Log(goodShare), b = Math.Log(1 - goodShare) - score;
        double max = Math.Max(a, b);
        return double.IsNegativeInfinity(max) ? double.PositiveInfinity : -(max + Math.Log(1 + Math.Exp(Math.Min(a, b) - max)));
    }

    /// <summary>The score of a candidate as EI per second: <paramref name="weight"/> × log(relative cost) taken off its log EI.</summary>
    private static double CostAwareScore(double score, double goodShare, double weight, IEnumerable<double> logRelativeCosts) =>
        LogExpectedImprovement(score, goodShare) - weight * logRelativeCosts.Sum();

    // Optuna's split: the best γ(n) of the n finished trials are "below". Timed-out and pruned trials count in n but rank
    // after every completed one (bad results); running trials (the liar) go above and do not count in n.
    private Observation[] Split(IReadOnlyList<FrozenTrial> trials, FrozenTrial[] completed, StudyDirection direction)
    {
        // Loss is lower-is-better whatever the direction.
        double Loss(FrozenTrial t) => t.State != TrialState.Complete ? double.PositiveInfinity
            : direction == StudyDirection.Minimize ? t.Value!.Value : -t.Value!.Value;
        var finished = trials.Where(t => t.State.IsResult()).ToArray();
        var scored = Options.ConstantLiar ? finished.Concat(trials.Where(t => t.State == TrialState.Running)) : finished;
        var ranked = scored.Select(t => (Trial: t, Loss: Loss(t))).OrderBy(s => s.Loss).ThenBy(s => s.Trial.Number).ToArray();
        int nBelow = Math.Clamp(Options.Gamma(finished.Length), 1, completed.Length);
        return ranked.Select((s, rank) => new Observation(s.Trial.Number, s.Trial.Params, rank < nBelow, CostOf(s.Trial)))
            .OrderBy(o => o.Number)
            .ToArray();
    }

    private void SampleInto(SearchSpace space, Observation[] observations, Dictionary<string, object> values, Random random, double costWeight)
    {
        if (Options.Multivariate)
        {
            SampleJointly(space, observations, values, random, costWeight);
            return;
        }
        var choices = costWeight > 0 ? ChoiceNames(space) : [];
        space.Sample(observations, values, (o, name, distribution) => SampleParameter(name, distribution, o, random, choices.Contains(name) ? costWeight : 0),
            // A branch's parameters learn only from the trials that took this branch.
            (o, choice, label) => o.Where(t => t.Params.TryGetValue(choice, out var v) && Equals(v, label)).ToArray());
    }

    // Multivariate TPE with groups (Optuna's multivariate=True, group=True): the parameters of one level of the tree (the
    // top level, or one branch such as a trainer's own parameters) are drawn together from joint estimators fitted to the
    // trials that have all of them; then each chosen branch is sampled the same way from the trials that took it.
    private void SampleJointly(SearchSpace space, Observation[] observations, Dictionary<string, object> values, Random random, double costWeight)
    {
        var group = new List<(string Name, Distribution Distribution, bool IsChoice)>();
        foreach (var node in space.Nodes)
        {
            switch (node)
            {
                case ConstantNode c: values[c.Name] = c.Value; break;
                case ParameterNode p: group.Add((p.Name, p.Distribution, false)); break;
                case ChoiceNode c: group.Add((c.Name, c.Distribution, true)); break;
            }
        }
        if (group.Count > 0)
        {
            var distributions = group.Select(g => g.Distribution).ToArray();
            List<double[]> Rows(bool below)
            {
                var rows = new List<double[]>();
                foreach (var o in observations.Where(o => o.Below == below))
                {
                    var row = group.Select(g => InternalValue(g.Name, g.Distribution, o)).ToArray();
                    if (row.All(x => x is not null)) rows.Add(row.Select(x => x!.Value).ToArray());
                }
                return rows;
            }
            var belowRows = Rows(below: true);
            var aboveRows = Rows(below: false);
            var l = new ParzenEstimator(distributions, belowRows, DefaultWeights(belowRows.Count), Options.Estimator, multivariate: true);
            var g = new ParzenEstimator(distributions, aboveRows, DefaultWeights(aboveRows.Count), Options.Estimator, multivariate: true);
            var costed = costWeight > 0 && belowRows.Count + aboveRows.Count > 0
                ? group.Select((m, j) => (Index: j, Costs: m.IsChoice ? ChoiceCosts.From(m.Name, observations.Select(o => (o.Params, o.Cost))) : null))
                    .Where(c => c.Costs is not null).ToList()
                : [];
            double goodShare = (double)belowRows.Count / Math.Max(1, belowRows.Count + aboveRows.Count);
            double[]? best = null;
            double bestScore = double.NegativeInfinity;
            for (int i = 0; i < Options.NEiCandidates; i++)
            {
                var x = l.SampleVector(random);
                double score = l.LogPdf(x) - g.LogPdf(x);
                if (costed.Count > 0)
                    score = CostAwareScore(score, goodShare, costWeight, costed.Select(c => c.Costs!.LogRelativeCost(group[c.Index].Distribution.ToExternal(x[c.Index]))));
                if (best is null || score > bestScore) (best, bestScore) = (x, score);
            }
            for (int j = 0; j < group.Count; j++) values[group[j].Name] = group[j].Distribution.ToExternal(best![j]);
        }
        foreach (var choice in space.Nodes.OfType<ChoiceNode>())
        {
            var label = (string)values[choice.Name];
            SampleJointly(choice.Branch(label).Space,
                observations.Where(t => t.Params.TryGetValue(choice.Name, out var v) && Equals(v, label)).ToArray(), values, random, costWeight);
        }
    }

    // costWeight > 0 only for a choice of branch under cost-aware TPE: its candidates are then ranked by EI per second.
    private object SampleParameter(string name, Distribution distribution, Observation[] observations, Random random, double costWeight)
    {
        var below = InternalValues(name, distribution, observations.Where(o => o.Below));
        var above = InternalValues(name, distribution, observations.Where(o => !o.Below));
        var l = new ParzenEstimator(distribution, below, DefaultWeights(below.Count), Options.Estimator);
        var g = new ParzenEstimator(distribution, above, DefaultWeights(above.Count), Options.Estimator);
        var costs = costWeight > 0 && below.Count + above.Count > 0 ? ChoiceCosts.From(name, observations.Select(o => (o.Params, o.Cost))) : null;
        double goodShare = (double)below.Count / Math.Max(1, below.Count + above.Count);

        double best = double.NaN, bestScore = double.NegativeInfinity;
        for (int i = 0; i < Options.NEiCandidates; i++)
        {
            double x = l.Sample(random);
            double score = l.LogPdf(x) - g.LogPdf(x);
            if (costs is not null) score = CostAwareScore(score, goodShare, costWeight, [costs.LogRelativeCost(distribution.ToExternal(x))]);
            if (score > bestScore || double.IsNaN(best)) (best, bestScore) = (x, score);
        }
        return distribution.ToExternal(best);
    }

    private static HashSet<string> ChoiceNames(SearchSpace space) =>
        space.Nodes.OfType<ChoiceNode>().SelectMany(c => c.Branches.SelectMany(b => ChoiceNames(b.Space)).Prepend(c.Name)).ToHashSet();

    // Values this distribution can hold; a trial made under another space (a changed config) is skipped.
    private static List<double> InternalValues(string name, Distribution distribution, IEnumerable<Observation> observations)
    {
        var values = new List<double>();
        foreach (var o in observations)
            if (InternalValue(name, distribution, o) is { } x) values.Add(x);
        return values;
    }

    private static double? InternalValue(string name, Distribution distribution, Observation o)
    {
        if (!o.Params.TryGetValue(name, out var value)) return null;
        if (distribution is CategoricalDistribution c && !c.Choices.Contains(value)) return null;
        if (distribution is not CategoricalDistribution && value is not (int or double)) return null;
        double x = distribution.ToInternal(value);
        return x >= distribution.InternalLow && x <= distribution.InternalHigh ? x : null;
    }
}
