namespace CtBuild.Evaluation;

/// <summary>
/// The repeated-retrain guard: the rule alone promotes a truly equal candidate with probability about α per
/// decision, so over N retrains of an unchanged process the champion flips with probability 1 − (1 − α)^N.
/// Each guard is a stricter test on the same figures; see <see cref="RetrainGuardKind"/>.
/// </summary>
public static class RetrainGuard
{
    /// <summary>The guard's criterion for a comparison.</summary>
    public static GateCriterion Check(GateOptions options, AucComparison d)
    {
        var g = options.Guard;
        string level = Gate.Level(options.BootstrapRatio);
        switch (g.Kind)
        {
            case RetrainGuardKind.Margin:
            {
                bool pass = d.LowerBound > g.Margin;
                return Criterion(pass, $"guard (margin): one-sided {level} lower bound {Gate.Signed(d.LowerBound)} {(pass ? ">" : "≤")} margin {Gate.Signed(g.Margin)}");
            }
            case RetrainGuardKind.Power:
            {
                double required = RequiredGain(options, d.StandardError);
                bool pass = d.Observed >= required;
                return Criterion(pass, $"guard (power): ΔAUC {Gate.Signed(d.Observed)} {(pass ? "≥" : "<")} {Gate.Signed(required)}, " +
                                       $"the gain this test set detects with {Gate.Level(g.Power)} probability");
            }
            case RetrainGuardKind.AlphaSpending:
            {
                bool pass = d.DeLongOneSidedP <= g.AlphaPerDecision;
                return Criterion(pass, $"guard (alpha spending): DeLong one-sided p = {Gate.PValue(d.DeLongOneSidedP)} {(pass ? "≤" : ">")} " +
                                       $"{Gate.PValue(g.AlphaPerDecision)} per decision ({GateOptions.Show(g.TenureAlpha)} over a tenure of {g.Tenure} retrains)");
            }
            default:
            {
                double flips = 1 - Math.Pow(options.BootstrapRatio, 20);
                return new GateCriterion("guard", CriterionVerdict.Reported,
                    $"guard: none (an equal candidate replaces the champion within 20 retrains with probability up to {Gate.Percent(flips)})");
            }
        }
    }

    /// <summary>Under <see cref="RetrainGuardKind.Power"/>: the gain detectable with the guard's power at the rule's level.</summary>
    public static double RequiredGain(GateOptions options, double standardError) =>
        AucComparison.Detectable(standardError, options.Alpha, options.Guard.Power);

    static GateCriterion Criterion(bool pass, string line) => new("guard", pass ? CriterionVerdict.Pass : CriterionVerdict.Block, line);
}
