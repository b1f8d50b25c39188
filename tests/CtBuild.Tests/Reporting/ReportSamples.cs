using CtBuild.Reporting;

namespace CtBuild.Tests.Reporting;

/// <summary>Report models with realistic numbers: a full run with a champion, and a first run.</summary>
public static class ReportSamples
{
    static readonly DateTimeOffset Started = new(2026, 11, 27, 7, 40, 12, TimeSpan.Zero);

    /// <summary>A promoted candidate over a champion, with drift, quarantined rows and a failed trial.</summary>
    public static PipelineReport Full(string runId = "20261127-074012-a1b2")
    {
        var tables = new[]
        {
            new TableVersionUsed("raw", 14, 48_842), new TableVersionUsed("features", 9, 48_211),
            new TableVersionUsed("splits", 9, 48_211),
        };
        var bootstrap = Bootstrap(mean: 0.0063, sd: 0.0030, resamples: 1000, seed: 7);
        var candidate = Evaluation("candidate v4", auc: 0.9281, logLoss: 0.2874, prevalence: 0.2393, tp: 1721, fp: 503, tn: 6823, fn: 588);
        var champion = Evaluation("champion v3", auc: 0.9220, logLoss: 0.2991, prevalence: 0.2393, tp: 1664, fp: 541, tn: 6785, fn: 645);
        return new PipelineReport(
            runId, Started, "adult-income", "dev",
            new Decision(DecisionOutcome.Promoted, "adult-income", 4,
                "promoted: 2 criteria passed; ΔAUC +0.0061 (bootstrap mean +0.0063), one-sided 95% lower bound +0.0012, p = 0.021; DeLong one-sided p = 0.0021",
                bootstrap.WinRatio, bootstrap.WinThreshold, bootstrap.DeltaAuc.Average(), bootstrap.CiLow, bootstrap.CiHigh,
                DeLongZ: 2.87, DeLongP: 0.0041, MinAucFloor: 0.85, HadChampion: true, new TableSnapshot("splits", 9))
            {
                ObservedDeltaAuc = 0.0061, LowerBound = 0.0012, OneSidedP = 0.021, DeLongOneSidedP = 0.0021, MinimumDetectable = 0.0058,
                TestRows = 9_635, TestPositives = 2_309, DecidedBy = "all criteria",
                Criteria =
                [
                    new Criterion("rule", CriterionStatus.Pass, "rule: candidate wins 97.9% of 1,000 paired resamples ≥ 95.0% required: one-sided 95% lower bound of ΔAUC +0.0012 > 0, one-sided p = 0.021 ≤ 0.050"),
                    new Criterion("guard", CriterionStatus.Pass, "guard (alpha spending): DeLong one-sided p = 0.0021 ≤ 0.0025 per decision (0.05 over a tenure of 20 retrains)"),
                    new Criterion("segment sex = Female", CriterionStatus.Reported, "segment sex = Female (120 rows, 14 positive): ΔAUC +0.0100, reported only (gated from 200 rows and 10 of each class)"),
                ],
            },
            new DataSummary(tables,
                [new SplitCounts("train", 33_748, 8_077), new SplitCounts("valid", 4_828, 1_153), new SplitCounts("test", 9_635, 2_309)],
                RowsQuarantined: 631,
                [new QuarantineReason("age out of range [17, 90]", 402), new QuarantineReason("missing label", 187),
                 new QuarantineReason("hours_per_week is not an integer", 42)],
                [new ColumnDrift("age", "numeric", 0.012, 38.6, 38.9, false),
                 new ColumnDrift("hours_per_week", "numeric", 0.031, 40.4, 41.2, false),
                 new ColumnDrift("capital_gain", "numeric", 0.214, 1_079.1, 1_498.7, true),
                 new ColumnDrift("workclass", "categorical", 0.007, null, null, false),
                 new ColumnDrift("occupation", "categorical", 0.118, null, null, true)]),
            Tuning(Trials(30, seed: 3)),
            new ModelComparison(candidate, champion),
            bootstrap,
            new ModelCard("LightGbm",
                new Dictionary<string, object> { ["learningRate"] = 0.0712, ["numberOfLeaves"] = 47, ["minExampleCountPerLeaf"] = 18, ["numberOfIterations"] = 300, ["l2Regularization"] = 0.00042 },
                [new FeatureInfo("age", "Single"), new FeatureInfo("education_num", "Single"), new FeatureInfo("hours_per_week", "Single"),
                 new FeatureInfo("capital_gain", "Single"), new FeatureInfo("capital_loss", "Single"), new FeatureInfo("workclass", "String (one-hot)"),
                 new FeatureInfo("marital_status", "String (one-hot)"), new FeatureInfo("occupation", "String (one-hot)"), new FeatureInfo("relationship", "String (one-hot)")],
                "age: Single, education_num: Single, hours_per_week: Single, capital_gain: Single, capital_loss: Single, workclass: String, marital_status: String, occupation: String, relationship: String",
                new Lineage(tables, runId, "3f9c2a1d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a", GitDirty: false),
                [new FeatureImportance("relationship", 0.0412), new FeatureImportance("capital_gain", 0.0388), new FeatureImportance("education_num", 0.0291),
                 new FeatureImportance("age", 0.0214), new FeatureImportance("occupation", 0.0187), new FeatureImportance("marital_status", 0.0122),
                 new FeatureImportance("hours_per_week", 0.0098), new FeatureImportance("capital_loss", 0.0061), new FeatureImportance("workclass", 0.0023)]),
            [new StageResult("Ingest", StageStatus.Ran, null, TimeSpan.FromSeconds(3.4)),
             new StageResult("Features", StageStatus.Ran, null, TimeSpan.FromSeconds(1.9)),
             new StageResult("Split", StageStatus.Skipped, "up to date", TimeSpan.FromMilliseconds(42)),
             new StageResult("Tune", StageStatus.Ran, null, TimeSpan.FromSeconds(80.6)),
             new StageResult("Evaluate", StageStatus.Ran, null, TimeSpan.FromSeconds(12.2)),
             new StageResult("Report", StageStatus.Ran, null, TimeSpan.FromMilliseconds(310)),
             new StageResult("Promote", StageStatus.Ran, null, TimeSpan.FromMilliseconds(820))]);
    }

    /// <summary>A first run: no champion, no drift, no bootstrap, no failed trials, nothing quarantined.</summary>
    public static PipelineReport FirstRun(string runId = "20261120-061500-0001")
    {
        var tables = new[] { new TableVersionUsed("raw", 0, 12_000), new TableVersionUsed("features", 0, 12_000), new TableVersionUsed("splits", 0, 12_000) };
        return new PipelineReport(
            runId, Started.AddDays(-7), "adult-income", "dev",
            new Decision(DecisionOutcome.Promoted, "adult-income", 1,
                "First model: test AUC 0.9012 clears the floor of 0.8500.",
                null, 0.95, null, null, null, null, null, 0.85, HadChampion: false, new TableSnapshot("splits", 0)),
            new DataSummary(tables, [new SplitCounts("train", 8_400, 2_010), new SplitCounts("valid", 1_200, 287), new SplitCounts("test", 2_400, 575)], 0, [], []),
            Tuning(Trials(6, seed: 11, withFailure: false)),
            new ModelComparison(Evaluation("candidate v1", 0.9012, 0.3204, 0.2396, 402, 131, 1694, 173), null),
            null,
            new ModelCard("FastTree", new Dictionary<string, object> { ["learningRate"] = 0.1, ["numberOfLeaves"] = 20 },
                [new FeatureInfo("age", "Single"), new FeatureInfo("education_num", "Single")], "age: Single, education_num: Single",
                new Lineage(tables, runId, "0a1b2c3d", GitDirty: true), []),
            [new StageResult("Ingest", StageStatus.Ran, null, TimeSpan.FromSeconds(1.1)),
             new StageResult("Tune", StageStatus.Ran, null, TimeSpan.FromSeconds(14))]);
    }

    static TuningSummary Tuning(IReadOnlyList<TrialResult> trials) =>
        new("TPE", trials.Where(t => t.ValidationAuc is not null).MaxBy(t => t.ValidationAuc)?.Number, trials);

    static IReadOnlyList<TrialResult> Trials(int count, int seed, bool withFailure = true)
    {
        var random = new Random(seed);
        string[] trainers = ["LightGbm", "FastTree", "LogisticRegression"];
        var trials = new List<TrialResult>();
        for (var n = 0; n < count; n++)
        {
            var trainer = trainers[n < 6 ? n % 3 : random.Next(10) < 7 ? 0 : random.Next(3)];
            var learningRate = Math.Exp(random.NextDouble() * 4 - 5); // 0.007 … 0.37
            var leaves = random.Next(8, 128);
            var progress = Math.Min(1.0, n / (double)count);
            var auc = trainer == "LogisticRegression" ? 0.895 + random.NextDouble() * 0.006
                : 0.905 + 0.02 * progress - 0.01 * Math.Abs(Math.Log(learningRate / 0.07)) / 3 + random.NextDouble() * 0.006;
            var parameters = trainer == "LogisticRegression"
                ? new Dictionary<string, object> { ["l2Regularization"] = learningRate / 10 }
                : new Dictionary<string, object> { ["learningRate"] = learningRate, ["numberOfLeaves"] = leaves };
            if (withFailure && n == 17)
                trials.Add(new TrialResult(n, "LightGbm", parameters, null, null, TimeSpan.FromSeconds(0.8), TrialState.Failed,
                    "LightGbm: numberOfLeaves must be ≤ 2^maxDepth (got 117 > 64) <script>alert(1)</script>"));
            else
                trials.Add(new TrialResult(n, trainer, parameters, Math.Round(auc, 4), Math.Round(0.42 - (auc - 0.89) * 3, 4),
                    TimeSpan.FromSeconds(1.5 + random.NextDouble() * 4), TrialState.Complete, null));
        }
        return trials;
    }

    /// <summary>Curves from the power ROC model tpr = fpr^k, whose AUC is 1/(k+1).</summary>
    static ModelEvaluation Evaluation(string label, double auc, double logLoss, double prevalence, long tp, long fp, long tn, long fn)
    {
        var k = 1 / auc - 1;
        var fprs = Enumerable.Range(0, 51).Select(i => Math.Pow(i / 50.0, 2)).ToList();
        var roc = fprs.Select(f => new RocPoint(f, Math.Pow(f, k))).ToList();
        var pr = roc.Where(p => p.Tpr > 0)
            .Select(p => new PrPoint(p.Tpr, prevalence * p.Tpr / (prevalence * p.Tpr + (1 - prevalence) * p.Fpr + 1e-12)))
            .Select(p => p with { Precision = Math.Min(1, p.Precision) }).ToList();
        var calibration = Enumerable.Range(0, 10).Select(i =>
        {
            var predicted = 0.05 + i * 0.1;
            return new CalibrationBin(predicted, Math.Clamp(predicted + 0.03 * Math.Sin(i * 1.3) * (1 - auc) * 10, 0, 1), (long)(2400 * Math.Exp(-i * 0.35)));
        }).ToList();
        var precision = (double)tp / (tp + fp);
        var recall = (double)tp / (tp + fn);
        return new ModelEvaluation(label, auc, logLoss, (double)(tp + tn) / (tp + fp + tn + fn), 2 * precision * recall / (precision + recall),
            precision, recall, 0.5, new ConfusionMatrix(tp, fp, tn, fn), roc, pr, calibration);
    }

    static BootstrapSummary Bootstrap(double mean, double sd, int resamples, int seed)
    {
        var random = new Random(seed);
        var deltas = new double[resamples];
        for (var i = 0; i < resamples; i++)
        {
            // Box-Muller: a normal draw from two uniforms.
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            deltas[i] = mean + sd * z;
        }
        var sorted = deltas.Order().ToArray();
        return new BootstrapSummary(deltas, sorted[(int)(0.025 * resamples)], sorted[(int)(0.975 * resamples)],
            deltas.Count(d => d > 0) / (double)resamples, 0.95, resamples);
    }
}
