using CtBuild.Evaluation;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Tracking;
using CtBuild.Training;

namespace CtBuild.Stages;

/// <summary>
/// Evaluate: scores the candidate and the current champion on the same frozen test snapshot and lets the
/// gate decide (see <see cref="Gate"/>; without a champion, the <c>minAuc</c> floor). Inputs: the candidate, the champion, the evaluate config. Output: the decision.
/// </summary>
public sealed class EvaluateStage : Stage
{
    public override string Name => "evaluate";
    public override string CodeVersion => "evaluate/2";

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        var candidate = CandidateModel.Read(ws.CandidateDir);
        var (championVersion, championSha) = ChampionComparison.Champion(ws);
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

    public override string? Invalidated(StageContext context) => ChampionComparison.ChampionDamaged(context.Workspace);

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
            ChampionComparison.Score(ws, splits, CandidateModel.ModelPath(ws.CandidateDir), candidate.Signature, context.Log);

        var store = TrackingStore.Open(ws.TrackingDir);
        using var run = store.StartRun(ws.Config.Name, $"evaluate {DateTime.UtcNow:yyyy-MM-dd HH:mm}", codeVersion: Tracking.CodeVersion.Detect(ws.Root),
            tags: new Dictionary<string, string> { ["stage"] = "evaluate", ["decision"] = decision.Outcome.ToString(), ["candidate_run"] = candidate.TrialRunId });
        run.LogInput(SplitStage.Table, splits.Version, candidate.SplitsDigest);
        ChampionComparison.LogDecision(run, decision);
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
}
