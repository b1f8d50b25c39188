using System.Globalization;
using System.Text.Json;
using CtBuild.Configuration;
using CtBuild.Evaluation;
using CtBuild.GitHub;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Training;

namespace CtBuild.Stages;

/// <summary>
/// Promote: when the decision is to promote, registers the candidate as a new version under
/// <c>models/&lt;name&gt;/</c> (model file, model card, signature, metrics, lineage), moves the <c>champion</c>
/// alias and makes the promotion commit of exactly those files. When the champion is kept: no commit.
/// Inputs: the decision and the promote config. Output: the champion version.
/// </summary>
public sealed class PromoteStage : Stage
{
    public const string ModelCardFile = "model-card.json";

    public override string Name => "promote";
    public override string CodeVersion => "promote/2";

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        var decision = File.Exists(EvaluationRecord.PathIn(ws.DecisionDir)) ? context.FileHashes.Hash(EvaluationRecord.PathIn(ws.DecisionDir)) : "none";
        return StageInputs.Of(("code", CodeVersion), ("config.promote", Section(ws.Config.Promote with { Commit = true })),
            ("decision.sha256", decision), ("no-commit", context.Options.NoCommit ? "yes" : "no"));
    }

    public override string? Invalidated(StageContext context) => ChampionComparison.ChampionDamaged(context.Workspace);

    public override bool OutputsIntact(StageContext context, StageOutputs recorded)
    {
        if (recorded.Get("promoted") != "true") return true;
        var (_, sha) = ChampionComparison.Champion(context.Workspace);
        return sha is not null && sha == recorded.Get("candidate.sha256");
    }

    public override StageOutputs Run(StageContext context)
    {
        var ws = context.Workspace;
        var record = EvaluationRecord.Read(ws.DecisionDir) ?? throw new CtBuildException($"No decision in {ws.DecisionDir}. Run `ctb evaluate` first.");
        var candidate = CandidateModel.Read(ws.CandidateDir) ?? throw new CtBuildException($"No candidate in {ws.CandidateDir}. Run `ctb tune` first.");
        if (candidate.ModelSha256 != record.CandidateSha256)
            throw new CtBuildException("The decision is about another candidate than the one in the workspace (the candidate was retrained since). Run `ctb evaluate` again.");
        var decision = record.Decision;
        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var github = GitHubActions.FromProcess();
        var commit = !context.Options.NoCommit;

        if (!decision.Promote)
        {
            if (ws.Config.Promote.RecordRejections)
                registry.RecordRejected(ws.Config.Name, candidate.TrialRunId, DecisionSummary.Metrics(decision), decision.Reason, commit);
            new PromotionOutputs(false, ws.Config.Name, record.ChampionVersion, decision.Champion?.Auc).WriteTo(github);
            context.Log.Info($"promote: not promoted ({decision.Outcome}): {decision.Reason}");
            return StageOutputs.Of($"not promoted: {decision.Outcome}", ("promoted", "false"));
        }

        // A run killed after the promotion commit but before this stage's lock comes back here with the
        // candidate already champion; registering it again would make a second version of the same model.
        if (ChampionComparison.Champion(ws) is ({ } current, { } championSha) && championSha == candidate.ModelSha256)
        {
            new PromotionOutputs(true, ws.Config.Name, current, decision.Candidate.Auc).WriteTo(github);
            ReportStage.Refresh(context, current);
            context.Log.Info($"promote: {ws.Config.Name} v{current} already is this candidate; nothing to register");
            return StageOutputs.Of($"promoted {ws.Config.Name} v{current} (already the champion)",
                ("promoted", "true"), ("version", current.ToString(CultureInfo.InvariantCulture)),
                ("candidate.sha256", candidate.ModelSha256), ("commit", ""));
        }

        var next = Promotion.NextVersion(registry, ws.Config.Name);
        var message = DecisionSummary.CommitMessage(ws.Config.Name, next, decision);
        var cardPath = Path.Combine(ws.CandidateDir, ModelCardFile);
        AtomicFile.WriteJson(cardPath, ModelCard(ws, candidate, record));
        var draft = new ModelVersionDraft(
            candidate.TrialRunId, candidate.Trainer, candidate.Params, DecisionSummary.Metrics(decision),
            Promotion.DataVersions(ws, candidate.SplitsVersion),
            candidate.Signature.Features.Select(f => new FeatureColumn(f.Name, f.Kind)).ToList(),
            [new DraftArtifact(CandidateModel.ModelFile, CandidateModel.ModelPath(ws.CandidateDir)), new DraftArtifact(ModelCardFile, cardPath)],
            ws.Config.Description);
        var update = registry.Promote(ws.Config.Name, draft, DecisionSummary.Metrics(decision), message, commit);
        var version = update.Version ?? next;
        new PromotionOutputs(true, ws.Config.Name, version, decision.Candidate.Auc).WriteTo(github);
        ReportStage.Refresh(context, version);
        var commitNote = update.Commit is null ? "no commit (--no-commit)"
            : update.Commit.Committed ? $"commit {update.Commit.CommitId?[..Math.Min(10, update.Commit.CommitId.Length)]}" : update.Commit.Reason;
        context.Log.Info($"promote: {message} — {commitNote}");
        return StageOutputs.Of($"promoted {ws.Config.Name} v{version}; {commitNote}",
            ("promoted", "true"), ("version", version.ToString(CultureInfo.InvariantCulture)),
            ("candidate.sha256", candidate.ModelSha256), ("commit", update.Commit?.CommitId ?? ""));
    }

    static object ModelCard(Workspace ws, CandidateModel c, EvaluationRecord r) => new
    {
        model = ws.Config.Name,
        description = ws.Config.Description,
        trainer = c.Trainer,
        hyperparameters = c.Params,
        features = c.Signature.Features.Select(f => new { name = f.Name, kind = f.Kind }),
        notFeatures = TuneStage.NonFeatures(ws, LakeTables.Open(ws, SplitStage.Table).Snapshot(c.SplitsVersion))
            .Where(n => n.Name != SplitStage.SplitColumn).Select(n => new { name = n.Name, reason = n.Reason }),
        label = new { column = ws.Config.Ingest.Label.Column, positive = ws.Config.Ingest.Label.Positive },
        metrics = new { validAuc = c.ValidAuc, testAuc = r.Decision.Candidate.Auc, testLogLoss = r.Decision.Candidate.LogLoss },
        decision = new { outcome = r.Decision.Outcome.ToString(), reason = r.Decision.Reason },
        lineage = new
        {
            dataVersions = Promotion.DataVersions(ws, c.SplitsVersion),
            trialRun = c.TrialRunId,
            tuningRun = c.TuningRunId,
            evaluationRun = r.EvaluationRunId,
            code = Tracking.CodeVersion.Detect(ws.Root),
        },
        featureImportance = c.FeatureImportance?.OrderByDescending(f => Math.Abs(f.Importance)).Take(30),
        created = DateTimeOffset.UtcNow,
    };
}
