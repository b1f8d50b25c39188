using CtBuild.Evaluation;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Tracking;
using CtBuild.Training;
using Microsoft.ML;

namespace CtBuild.Stages;

/// <summary>
/// Evaluate: scores the candidate and the current champion on the same frozen test snapshot and lets the
/// gate decide (paired stratified bootstrap of AUC, DeLong as a cross-check; without a champion, the
/// <c>minAuc</c> floor). Inputs: the candidate, the champion, the evaluate config. Output: the decision.
/// </summary>
public sealed class EvaluateStage : Stage
{
    public override string Name => "evaluate";
    public override string CodeVersion => "evaluate/1";

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        var candidate = CandidateModel.Read(ws.CandidateDir);
        var (championVersion, championSha) = Champion(ws);
        // Promoting this very candidate makes it the champion; that must not make the decision about it stale.
        if (candidate is not null && championSha == candidate.ModelSha256
            && EvaluationRecord.Read(ws.DecisionDir) is { } last && last.CandidateSha256 == candidate.ModelSha256)
            (championVersion, championSha) = (last.ChampionVersion, last.ChampionSha256);
        return StageInputs.Of(
            ("code", CodeVersion),
            ("config.evaluate", Section(ws.Config.Evaluate)),
            ("candidate.sha256", candidate?.ModelSha256 ?? "none"),
            ("splits.version", candidate?.SplitsVersion.ToString() ?? "none"),
            ("champion", championVersion is null ? "none" : $"v{championVersion} {championSha}"));
    }

    public override bool OutputsIntact(StageContext context, StageOutputs recorded) =>
        File.Exists(EvaluationRecord.PathIn(context.Workspace.DecisionDir))
        && Hashing.Sha256File(EvaluationRecord.PathIn(context.Workspace.DecisionDir)) == recorded.Get("decision.sha256");

    public override StageOutputs Run(StageContext context)
    {
        var ws = context.Workspace;
        var candidate = CandidateModel.Read(ws.CandidateDir)
            ?? throw new CtBuildException($"No candidate model in {ws.CandidateDir}. Run `ctb tune` first.");
        var splits = LakeTables.Open(ws, SplitStage.Table).Snapshot(candidate.SplitsVersion);
        var (decision, championVersion, championSha, differences) =
            ScoreAgainstChampion(ws, splits, CandidateModel.ModelPath(ws.CandidateDir), candidate.Signature, context.Log);

        var store = TrackingStore.Open(ws.TrackingDir);
        using var run = store.StartRun(ws.Config.Name, $"evaluate {DateTime.UtcNow:yyyy-MM-dd HH:mm}", codeVersion: Tracking.CodeVersion.Detect(ws.Root),
            tags: new Dictionary<string, string> { ["stage"] = "evaluate", ["decision"] = decision.Outcome.ToString(), ["candidate_run"] = candidate.TrialRunId });
        run.LogInput(SplitStage.Table, splits.Version, candidate.SplitsDigest);
        LogDecision(run, decision);
        run.End(RunStatus.Finished);

        var record = new EvaluationRecord(decision, candidate.ModelSha256, candidate.TrialRunId, championVersion, championSha,
            differences, run.RunId, DateTimeOffset.UtcNow);
        Directory.CreateDirectory(ws.DecisionDir);
        FaultInjection.Point("evaluate.before-decision", EvaluationRecord.PathIn(ws.DecisionDir));
        record.Write(ws.DecisionDir);
        context.Log.Info($"evaluate: {decision.Outcome}: {decision.Reason}");
        return StageOutputs.Of($"{decision.Outcome}: {decision.Reason}",
            ("decision.sha256", Hashing.Sha256File(EvaluationRecord.PathIn(ws.DecisionDir))), ("decision", decision.Outcome.ToString()));
    }

    /// <summary>
    /// Scores the model at <paramref name="modelPath"/> and the workspace's champion on the test split of
    /// <paramref name="splits"/> and lets the gate decide with the workspace's evaluate config. Used by Evaluate
    /// for the tuned candidate and by import for a model published from another environment.
    /// </summary>
    public static ChampionComparison ScoreAgainstChampion(Configuration.Workspace ws, Lake.DeltaSnapshot splits, string modelPath,
        FeatureSignature signature, IPipelineLog log)
    {
        var cfg = ws.Config.Evaluate;
        var snapshot = new TestSnapshotRef(SplitStage.Table, splits.Version);
        var ml = new MLContext(1);

        ModelInput test;
        double[] candidateScores;
        double[]? championScores = null;
        string? unscorable = null;
        IReadOnlyList<string> differences = [];
        var (championVersion, championSha) = Champion(ws);
        using (var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill")))
        {
            test = ModelInput.Load(db, splits, signature, "test", ws.Config.Split.Key);
            candidateScores = ModelScoring.Score(ModelScoring.Load(ml, modelPath), test);
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
                    var model = ml.Model.Load(stream, out _);
                    var championTest = ModelInput.Load(db, splits, championSignature, "test", ws.Config.Split.Key);
                    championScores = ModelScoring.Score(model, championTest);
                    if (differences.Count > 0)
                        log.Warning($"the champion v{v} was trained on different features ({string.Join(", ", differences)}); it is scored through its own saved pipeline");
                }
            }
        }

        var options = new GateOptions(cfg.BootstrapRatio, cfg.Resamples, (ulong)cfg.Seed, cfg.MinAuc, cfg.MinGain, cfg.Threshold);
        var decision = Gate.Decide(options, test.Labels, candidateScores, championScores, snapshot, unscorable);
        return new ChampionComparison(decision, championVersion, championSha, differences);
    }

    /// <summary>Logs a decision's figures and curves to an evaluation run.</summary>
    public static void LogDecision(RunWriter run, GateDecision decision)
    {
        run.LogMetric("test_auc", decision.Candidate.Auc);
        run.LogMetric("test_logloss", decision.Candidate.LogLoss);
        if (decision.Champion is { } c) run.LogMetric("champion_test_auc", c.Auc);
        if (decision.Bootstrap is { } b) { run.LogMetric("win_ratio", b.WinRatio); run.LogMetric("delta_auc", b.MeanDelta); }
        if (decision.DeLong is { } d) run.LogMetric("delong_p", d.P);
        run.LogArtifactText("roc.json", System.Text.Json.JsonSerializer.Serialize(decision.Candidate.Roc));
        run.LogArtifactText("pr.json", System.Text.Json.JsonSerializer.Serialize(decision.Candidate.PrecisionRecall));
    }

    /// <summary>The champion's version and the sha256 of its model file, or nulls when there is none.</summary>
    internal static (int? Version, string? Sha256) Champion(Configuration.Workspace ws)
    {
        if (!Directory.Exists(Path.Combine(ws.ModelsDir, ws.Config.Name))) return (null, null);
        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var champion = registry.ResolveAlias(ws.Config.Name, ModelRegistry.ChampionAlias);
        return champion is null ? (null, null) : (champion.Version, champion.Artifacts.FirstOrDefault(a => a.Name == CandidateModel.ModelFile)?.Sha256);
    }

    /// <summary>The registry stores the signature as (name, kind) columns; the order is the model's input order.</summary>
    internal static FeatureSignature SignatureOf(ModelVersion version, string label) =>
        FeatureSignature.FromColumns(version.InputSignature.Select(c => (c.Name, c.Type)), label);
}

/// <summary>A model scored against the workspace's champion: the gate's decision and which champion it was about.</summary>
/// <param name="SignatureDifferences">How the champion's input signature differs from the model's, in words; empty when equal.</param>
public sealed record ChampionComparison(GateDecision Decision, int? ChampionVersion, string? ChampionSha256, IReadOnlyList<string> SignatureDifferences);
