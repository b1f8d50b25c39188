using CtBuild.Configuration;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Tracking;
using CtBuild.Training;
using Microsoft.ML;

namespace CtBuild.Evaluation;

/// <summary>A model scored against the workspace's champion: the gate's decision and which champion it was about.</summary>
/// <param name="SignatureDifferences">How the champion's input signature differs from the model's, in words; empty when equal.</param>
public sealed record ChampionComparison(GateDecision Decision, int? ChampionVersion, string? ChampionSha256, IReadOnlyList<string> SignatureDifferences)
{
    /// <summary>
    /// Scores the model at <paramref name="modelPath"/> and the workspace's champion on the test split of
    /// <paramref name="splits"/> and lets the gate decide with the workspace's evaluate options. Used by Evaluate
    /// for the tuned candidate and by import for a model published from another environment. The pairing of
    /// the two models' rows is verified (same keys, same order, same labels) before the gate sees them.
    /// </summary>
    public static ChampionComparison Score(Workspace ws, DeltaSnapshot splits, string modelPath,
        FeatureSignature signature, IPipelineLog log)
    {
        var options = ws.Config.Evaluate;
        var snapshot = new TestSnapshotRef(LakeTables.Splits, splits.Version);
        var ml = new MLContext(1);

        ModelInput test;
        double[] candidateScores;
        double[]? championScores = null;
        string? unscorable = null;
        IReadOnlyList<string> differences = [];
        IReadOnlyDictionary<string, string?[]>? segments = null;
        var (championVersion, championSha) = Champion(ws);
        using (var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill")))
        {
            TestPairing.RequireUniqueKeys(db, splits, ws.Config.Split.Key, snapshot);
            test = ModelInput.Load(db, splits, signature, "test", ws.Config.Split.Key);
            candidateScores = ModelScoring.Score(ModelScoring.Load(ml, modelPath), test);
            if (options.Segments.Count > 0)
                segments = TestPairing.LoadSegments(db, splits, ws.Config.Split.Key, options.Segments, test, snapshot);
            if (championVersion is { } v)
            {
                var registry = ModelRegistry.Open(ws.RegistryRoot);
                var champion = registry.GetVersion(ws.Config.Name, v);
                var championSignature = SignatureOf(champion, signature.Label);
                differences = championSignature.Differences(signature);
                var missing = championSignature.MissingFrom(splits.Schema.Select(f => f.Name));
                if (missing.Count > 0)
                    unscorable = $"champion v{v}'s input signature no longer matches the features ({string.Join(", ", differences)}); " +
                                 $"column(s) {string.Join(", ", missing)} are gone, so it cannot be scored";
                else
                {
                    registry.VerifyArtifacts(ws.Config.Name, v); // refuses a model file that does not match its sha256
                    using var stream = registry.OpenModelFile(ws.Config.Name, v);
                    var model = ModelScoring.Load(ml, stream, $"{ws.Config.Name} v{v}'s {CandidateModel.ModelFile}");
                    var championTest = ModelInput.Load(db, splits, championSignature, "test", ws.Config.Split.Key);
                    TestPairing.RequireSameRows(test, championTest, snapshot);
                    championScores = ModelScoring.Score(model, championTest);
                    if (differences.Count > 0)
                        log.Warning($"the champion v{v} was trained on different features ({string.Join(", ", differences)}); it is scored through its own saved pipeline");
                }
            }
        }

        var decision = Gate.Decide(options, test.Labels, candidateScores, championScores, snapshot, unscorable, segments);
        return new ChampionComparison(decision, championVersion, championSha, differences);
    }

    /// <summary>Logs a decision's figures and curves to an evaluation run.</summary>
    public static void LogDecision(RunWriter run, GateDecision decision)
    {
        run.LogMetric("test_auc", decision.Candidate.Auc);
        run.LogMetric("test_logloss", decision.Candidate.LogLoss);
        if (decision.Champion is { } c) run.LogMetric("champion_test_auc", c.Auc);
        if (decision.Bootstrap is { } b) { run.LogMetric("win_ratio", b.WinRatio); run.LogMetric("delta_auc_mean", b.MeanDelta); }
        if (decision.Delta is { } d)
        {
            run.LogMetric("delta_auc", d.Observed);
            run.LogMetric("delta_auc_lower_bound", d.LowerBound);
            run.LogMetric("one_sided_p", d.OneSidedP);
            run.LogMetric("delong_one_sided_p", d.DeLongOneSidedP);
            run.LogMetric("detectable_delta_auc", d.MinimumDetectable);
        }
        if (decision.DeLong is { } l) run.LogMetric("delong_p", l.P);
        run.LogArtifactText("roc.json", System.Text.Json.JsonSerializer.Serialize(decision.Candidate.Roc));
        run.LogArtifactText("pr.json", System.Text.Json.JsonSerializer.Serialize(decision.Candidate.PrecisionRecall));
    }

    /// <summary>The champion's version and the sha256 of its model file, or nulls when there is none.</summary>
    public static (int? Version, string? Sha256) Champion(Workspace ws)
    {
        if (!Directory.Exists(Path.Combine(ws.ModelsDir, ws.Config.Name))) return (null, null);
        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var champion = registry.ResolveAlias(ws.Config.Name, ModelRegistry.ChampionAlias);
        return champion is null ? (null, null) : (champion.Version, champion.Artifacts.FirstOrDefault(a => a.Name == CandidateModel.ModelFile)?.Sha256);
    }

    /// <summary>"champion model sha256 mismatch: …" when a file of the champion differs from its registry record, else null.</summary>
    public static string? ChampionDamaged(Workspace ws)
    {
        if (Champion(ws).Version is not { } v) return null;
        var damaged = ModelRegistry.Open(ws.RegistryRoot).FindDamaged(ws.Config.Name, v);
        return damaged.Count == 0 ? null
            : $"champion model sha256 mismatch: {ws.Config.Name} v{v}'s {damaged[0].File} is {damaged[0].ActualSha256}, the registry recorded {damaged[0].ExpectedSha256}";
    }

    /// <summary>The registry stores the signature as (name, kind) columns; the order is the model's input order.</summary>
    public static FeatureSignature SignatureOf(ModelVersion version, string label) =>
        FeatureSignature.FromColumns(version.InputSignature.Select(c => (c.Name, c.Type)), label);
}
