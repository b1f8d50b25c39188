using System.Globalization;

namespace CtBuild.Evaluation;

/// <summary>A decision in the two forms a promotion records: the commit message and the metrics kept with the version.</summary>
public static class DecisionSummary
{
    /// <summary>"Promote adult-income v4: AUC 0.9281 vs 0.9254 (ΔAUC +0.0027, one-sided 95% lower bound +0.0009, p = 0.004; DeLong one-sided p = 0.0011; passed rule, guard)".</summary>
    /// <param name="origin">Where the model came from when not tuned here, e.g. "imported from dev v3"; shown after the version.</param>
    public static string CommitMessage(string name, int version, GateDecision d, string? origin = null)
    {
        var head = origin is null ? $"Promote {name} v{version}" : $"Promote {name} v{version} ({origin})";
        var c = Gate.Fixed(d.Candidate.Auc);
        if (d.Delta is not { } delta || d.Champion is null)
            return $"{head}: AUC {c} (no champion to beat; floor {d.Options.MinAuc.ToString("0.00##", CultureInfo.InvariantCulture)})";
        var passed = d.Criteria.Where(x => x.Verdict == CriterionVerdict.Pass && !x.Name.StartsWith("segment ", StringComparison.Ordinal)).Select(x => x.Name).ToList();
        int segments = d.Criteria.Count(x => x.Verdict == CriterionVerdict.Pass && x.Name.StartsWith("segment ", StringComparison.Ordinal));
        if (segments > 0) passed.Add($"{segments} segment(s)");
        return $"{head}: AUC {c} vs {Gate.Fixed(d.Champion.Auc)} (ΔAUC {Gate.Signed(delta.Observed)}, " +
               $"one-sided {Gate.Level(d.Options.BootstrapRatio)} lower bound {Gate.Signed(delta.LowerBound)}, p = {Gate.PValue(delta.OneSidedP)}; " +
               $"DeLong one-sided p = {Gate.PValue(delta.DeLongOneSidedP)}; passed {string.Join(", ", passed)})";
    }

    /// <summary>The figures kept with a registered version (and with a rejection, when recorded).</summary>
    public static Dictionary<string, double> Metrics(GateDecision d)
    {
        var n = new Dictionary<string, double>
        {
            ["test_auc"] = d.Candidate.Auc, ["test_logloss"] = d.Candidate.LogLoss, ["test_accuracy"] = d.Candidate.Accuracy,
            ["test_f1"] = d.Candidate.F1, ["required_win_ratio"] = d.Options.BootstrapRatio, ["min_auc"] = d.Options.MinAuc,
        };
        if (d.Champion is { } c) n["champion_test_auc"] = c.Auc;
        if (d.Bootstrap is { } b) { n["win_ratio"] = b.WinRatio; n["delta_auc_mean"] = b.MeanDelta; n["delta_auc_low"] = b.DeltaLower; n["delta_auc_high"] = b.DeltaUpper; }
        if (d.Delta is { } x)
        {
            n["delta_auc"] = x.Observed; n["delta_auc_lower_bound"] = x.LowerBound; n["one_sided_p"] = x.OneSidedP;
            n["delong_one_sided_p"] = x.DeLongOneSidedP; n["detectable_delta_auc"] = x.MinimumDetectable;
        }
        if (d.DeLong is { } l) { n["delong_z"] = l.Z; n["delong_p"] = l.P; }
        return n;
    }
}
