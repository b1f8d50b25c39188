namespace CtBuild.Tuning;

/// <summary>
/// Settings of <see cref="TpeSampler"/>; the defaults are Optuna 5's TPE (multivariate, neighbour widths, the true density;
/// optuna/optuna master, 2026), which measured better than Optuna 3.1's on 4 of the 5 benchmark functions (README "Tuning").
/// <see cref="Optuna31"/> is Optuna 3.1's.
/// </summary>
public sealed record TpeOptions
{
    /// <summary>Completed trials drawn at random before TPE takes over.</summary>
    public int NStartupTrials { get; init; } = 10;

    /// <summary>Candidates drawn from l(x) per parameter; the one with the largest l(x)/g(x) wins.</summary>
    public int NEiCandidates { get; init; } = 24;

    /// <summary>How many of n trials count as good; <see cref="TpeSampler.DefaultGamma"/> unless set.</summary>
    public Func<int, int> Gamma { get; init; } = TpeSampler.DefaultGamma;

    /// <summary>Prior weight and bandwidth clipping of the Parzen estimators.</summary>
    public ParzenEstimatorParameters Estimator { get; init; } = new();

    /// <summary>
    /// Multivariate TPE (Optuna's <c>multivariate=True, group=True</c>): the parameters of one level of the space (the
    /// top level, or one trainer's own parameters) are drawn together from joint Parzen estimators, so the search
    /// follows how they interact (e.g. learning rate with number of trees). False: each parameter on its own.
    /// </summary>
    public bool Multivariate { get; init; } = true;

    /// <summary>
    /// Cost-aware choices: a choice of branch (e.g. the trainer) is ranked by expected improvement per second of training
    /// rather than by expected improvement alone (EI per second, Snoek et al. 2012), with cost cooling (Lee et al. 2020):
    /// the cost weighs fully at the start of the budget and not at all at its end (<see cref="CostBudgetTrials"/>), so a
    /// slow trainer that proves good still gets the later trials. Only choices are costed; a trainer's own parameters are
    /// drawn as without it. False: plain TPE, Optuna's ranking.
    /// </summary>
    public bool CostAware { get; init; }

    /// <summary>
    /// With <see cref="CostAware"/>: the budget in finished trials over which the cost's weight falls from 1 to 0 (the study's
    /// maxEvals); null keeps it at 1 throughout.
    /// </summary>
    public int? CostBudgetTrials { get; init; }

    /// <summary>
    /// Give running trials the worst observed value when building estimators, so parallel workers steer away
    /// from points already being evaluated instead of proposing them again.
    /// </summary>
    public bool ConstantLiar { get; init; } = true;

    /// <summary>
    /// With the liar on, how many times to redraw a suggestion equal to a running trial's parameters and then, if
    /// it still repeats one, to draw from the prior instead (0 = keep duplicates). Matters only on small discrete spaces, where the best
    /// point's l(x) can outweigh one lie in g(x).
    /// </summary>
    public int DuplicateRetries { get; init; } = 8;

    /// <summary>Optuna 3.1's TPE with its defaults (univariate; estimators as <see cref="ParzenEstimatorParameters.Optuna31"/>).</summary>
    public static TpeOptions Optuna31 { get; } = new() { Multivariate = false, Estimator = ParzenEstimatorParameters.Optuna31 };

    /// <summary>
    /// What <c>tune.multivariate</c> selects: true, the defaults (Optuna 5's); false, <see cref="Optuna31"/>, the default before
    /// 2026-12-03. Not Optuna 5's univariate TPE: its widths and density without joint kernels measured worse than 3.1's on all
    /// five benchmark functions.
    /// </summary>
    public static TpeOptions For(bool multivariate) => multivariate ? new TpeOptions() : Optuna31;

    /// <summary>Throws <see cref="ArgumentException"/> naming each invalid setting.</summary>
    public void Validate()
    {
        if (NStartupTrials < 0) throw new ArgumentException($"NStartupTrials must be >= 0, but got {NStartupTrials}.", nameof(NStartupTrials));
        if (NEiCandidates < 1) throw new ArgumentException($"NEiCandidates must be >= 1, but got {NEiCandidates}.", nameof(NEiCandidates));
        if (DuplicateRetries < 0) throw new ArgumentException($"DuplicateRetries must be >= 0, but got {DuplicateRetries}.", nameof(DuplicateRetries));
        if (CostBudgetTrials is < 1) throw new ArgumentException($"CostBudgetTrials must be >= 1 when set, but got {CostBudgetTrials}.", nameof(CostBudgetTrials));
        if (Estimator.PriorWeight <= 0) throw new ArgumentException($"PriorWeight must be > 0, but got {Estimator.PriorWeight}.", nameof(Estimator));
    }
}
