using CtBuild.Configuration;
using CtBuild.Evaluation;
using CtBuild.GitHub;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Reporting;
using CtBuild.Storage;
using CtBuild.Training;
using static CtBuild.Storage.DuckDb;
using R = CtBuild.Reporting;

namespace CtBuild.Stages;

/// <summary>
/// Report: renders the run's HTML report, its Markdown summary and the index of all runs into the reports
/// folder (and the summary into GitHub's job summary when running in Actions).
/// Inputs: the decision and the report config. Output: the report's path.
/// </summary>
public sealed class ReportStage : Stage
{
    public override string Name => "report";
    public override string CodeVersion => "report/2";

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        var decision = File.Exists(EvaluationRecord.PathIn(ws.DecisionDir)) ? context.FileHashes.Hash(EvaluationRecord.PathIn(ws.DecisionDir)) : "none";
        var templates = ws.Config.Report.Templates is { } t && Directory.Exists(ws.Resolve(t))
            ? string.Join(",", Directory.EnumerateFiles(ws.Resolve(t)).Order().Select(context.FileHashes.Hash)) : "embedded";
        return StageInputs.Of(("code", CodeVersion), ("config.report", Section(ws.Config.Report)), ("decision.sha256", decision), ("templates", templates));
    }

    public override bool OutputsIntact(StageContext context, StageOutputs recorded) =>
        recorded.Get("report") is { } path && File.Exists(path) && File.Exists(Path.Combine(context.Workspace.ReportsDir, "index.html"));

    public override StageOutputs Run(StageContext context)
    {
        var report = Build(context, promotedVersion: null);
        var written = Write(context, report, toJobSummary: true);
        return StageOutputs.Of($"{report.Decision.OutcomeLabel}: {written.ReportHtml} ({written.ReportHtmlBytes / 1024} KiB)",
            ("report", written.ReportHtml), ("run", report.RunId));
    }

    /// <summary>Renders again after Promote, so the report shows the version it registered and the Promote stage.</summary>
    public static void Refresh(StageContext context, int? promotedVersion)
    {
        if (EvaluationRecord.Read(context.Workspace.DecisionDir) is null) return;
        Write(context, Build(context, promotedVersion), toJobSummary: false);
    }

    static WrittenReport Write(StageContext context, PipelineReport report, bool toJobSummary)
    {
        var ws = context.Workspace;
        var templates = ws.Config.Report.Templates is { } t ? ws.Resolve(t) : null;
        if (templates is not null && !Directory.Exists(templates))
            throw new ConfigException($"report.templates names {templates}, which does not exist. Create it or remove the key to use the embedded templates.");
        var written = new ReportWriter(ws.ReportsDir, new ReportRenderer(templates)).Write(report);
        var github = GitHubActions.FromProcess();
        if (toJobSummary && github.IsActive) github.AppendStepSummary(File.ReadAllText(written.RunSummary));
        return written;
    }

    static PipelineReport Build(StageContext context, int? promotedVersion)
    {
        var ws = context.Workspace;
        var record = EvaluationRecord.Read(ws.DecisionDir) ?? throw new CtBuildException($"No decision in {ws.DecisionDir}. Run `ctb evaluate` first.");
        var candidate = CandidateModel.Read(ws.CandidateDir) ?? throw new CtBuildException($"No candidate in {ws.CandidateDir}. Run `ctb tune` first.");
        var d = record.Decision;
        var runId = context.Options.PipelineRunId ?? $"{record.Created:yyyyMMdd-HHmmss}-{record.CandidateSha256[..6]}";
        var stages = StageTable(ws, runId, promotedVersion is not null);
        var started = PipelineDefinition.Stages.Select(s => StageLock.Read(ws.StagesDir, s.Name))
            .Where(l => l?.PipelineRunId == runId).Select(l => l!.StartedAt).DefaultIfEmpty(DateTimeOffset.UtcNow).Min();

        var outcome = d.Outcome switch { GateOutcome.Promote => DecisionOutcome.Promoted, GateOutcome.KeepChampion => DecisionOutcome.KeptChampion, _ => DecisionOutcome.Rejected };
        var version = outcome == DecisionOutcome.Promoted ? promotedVersion ?? (record.ChampionVersion ?? 0) + 1 : record.ChampionVersion;
        var decision = new R.Decision(outcome, ws.Config.Name, version, d.Reason, d.Bootstrap?.WinRatio, d.Options.BootstrapRatio,
            d.Bootstrap?.MeanDelta, d.Bootstrap?.DeltaLower, d.Bootstrap?.DeltaUpper, d.DeLong?.Z, d.DeLong?.P, d.Options.MinAuc,
            d.Champion is not null, new TableSnapshot(d.TestSnapshot.Table, d.TestSnapshot.Version))
        {
            ObservedDeltaAuc = d.Delta?.Observed, LowerBound = d.Delta?.LowerBound, OneSidedP = d.Delta?.OneSidedP,
            DeLongOneSidedP = d.Delta?.DeLongOneSidedP, MinimumDetectable = d.Delta?.MinimumDetectable,
            TestRows = d.Candidate.Rows, TestPositives = d.Candidate.Positives, DecidedBy = d.DecidedBy,
            Criteria = d.Criteria.Select(c => new R.Criterion(c.Name, c.Verdict switch
            {
                CriterionVerdict.Pass => CriterionStatus.Pass, CriterionVerdict.Block => CriterionStatus.Block, _ => CriterionStatus.Reported,
            }, c.Line)).ToList(),
        };

        var dataVersions = Promotion.DataVersions(ws, candidate.SplitsVersion);
        var data = Data(ws, dataVersions, candidate);
        var tuning = new TuningSummary(candidate.Sampler.ToUpperInvariant() == "TPE" ? "TPE" : "random", candidate.TrialNumber,
            candidate.Trials.Select(t => new TrialResult(t.Number, t.Trainer, t.Params.ToDictionary(p => p.Key, p => Numeric(p.Value)),
                t.ValidAuc, t.ValidLogLoss, TimeSpan.FromSeconds(t.Seconds),
                t.State switch { "Complete" => R.TrialState.Complete, "Pruned" => R.TrialState.Pruned, _ => R.TrialState.Failed }, t.Error)
            {
                Rungs = t.Rungs is { Count: > 0 } rungs
                    ? string.Join(" · ", rungs.Select(r => $"{Tuning.SuccessiveHalving.FormatFraction(r.Fraction)}: {r.ValidAuc.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)}"))
                    : null,
            }).ToList())
        {
            Rungs = candidate.Trials.SelectMany(t => t.Rungs ?? []).Select(r => (r.Rung, r.Fraction)).Distinct().OrderBy(r => r.Rung)
                .Select(r => Tuning.SuccessiveHalving.FormatFraction(r.Fraction)).ToList() is { Count: > 0 } all ? string.Join(", ", all) : null,
        };
        var models = new ModelComparison(Evaluation("candidate", d.Candidate),
            d.Champion is null ? null : Evaluation($"champion v{record.ChampionVersion}", d.Champion));
        var bootstrap = d.Bootstrap is { } b ? new BootstrapSummary(b.DeltaAucs, b.DeltaLower, b.DeltaUpper, b.WinRatio, d.Options.BootstrapRatio, b.Resamples) : null;
        var code = Tracking.CodeVersion.Detect(ws.Root);
        var card = new R.ModelCard(candidate.Trainer, candidate.Params.ToDictionary(p => p.Key, p => Numeric(p.Value)),
            candidate.Signature.Features.Select(f => new FeatureInfo(f.Name, f.Kind)).ToList(),
            string.Join(", ", candidate.Signature.Features.Select(f => $"{f.Name}: {f.Kind}")),
            new R.Lineage(data.Tables, candidate.TrialRunId, code?.Commit ?? "(not a git repository)", code?.Dirty ?? false),
            (candidate.FeatureImportance ?? []).OrderByDescending(f => Math.Abs(f.Importance)).Take(25)
                .Select(f => new R.FeatureImportance(f.Name, f.Importance)).ToList());
        return new PipelineReport(runId, started, Path.GetFileName(ws.Root), ws.Environment, decision, data, tuning, models, bootstrap, card, stages);
    }

    static object Numeric(string value) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : value;

    static ModelEvaluation Evaluation(string label, BinaryMetrics m) => new(label, m.Auc, m.LogLoss, m.Accuracy, m.F1, m.Precision, m.Recall, m.Threshold,
        new R.ConfusionMatrix(m.Confusion.TruePositives, m.Confusion.FalsePositives, m.Confusion.TrueNegatives, m.Confusion.FalseNegatives),
        m.Roc.Select(p => new R.RocPoint(p.FalsePositiveRate, p.TruePositiveRate)).ToList(),
        m.PrecisionRecall.Select(p => new PrPoint(p.Recall, p.Precision)).ToList(),
        m.Calibration.Where(c => c.Count > 0).Select(c => new R.CalibrationBin(c.MeanPredicted ?? 0, c.ObservedRate ?? 0, c.Count)).ToList());

    static IReadOnlyList<R.StageResult> StageTable(Workspace ws, string runId, bool promoted) =>
        PipelineDefinition.Stages.Select(s =>
        {
            var last = StageLock.Read(ws.StagesDir, s.Name);
            if (s.Name == "report") return new R.StageResult(s.Name, StageStatus.Ran, null, last?.PipelineRunId == runId ? TimeSpan.FromSeconds(last.DurationSeconds) : TimeSpan.Zero);
            if (s.Name == "promote" && !promoted && last?.PipelineRunId != runId)
                return new R.StageResult(s.Name, StageStatus.Skipped, "runs after the report", TimeSpan.Zero);
            return last?.PipelineRunId == runId
                ? new R.StageResult(s.Name, StageStatus.Ran, null, TimeSpan.FromSeconds(last.DurationSeconds))
                : new R.StageResult(s.Name, StageStatus.Skipped, "up to date", TimeSpan.Zero);
        }).ToList();

    static DataSummary Data(Workspace ws, IReadOnlyDictionary<string, long> versions, CandidateModel candidate)
    {
        using var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill"));
        var tables = versions.OrderBy(v => v.Key == IngestStage.RawTable ? 0 : v.Key == FeaturesStage.Table ? 1 : 2)
            .Select(v => new TableVersionUsed(v.Key, v.Value, LakeTables.Open(ws, v.Key).Snapshot(v.Value).RowCount)).ToList();
        var splits = LakeTables.Open(ws, SplitStage.Table).Snapshot(candidate.SplitsVersion);
        var counts = SplitCounts.Query(db, splits, ws.Config.Features.Label).Select(c => new R.SplitCounts(c.Split, c.Rows, c.Positives)).ToList();

        long quarantined = 0;
        IReadOnlyList<QuarantineReason> reasons = [];
        var quarantine = LakeTables.Open(ws, IngestStage.QuarantineTable);
        if (quarantine.Exists)
        {
            var q = quarantine.Snapshot();
            quarantined = q.RowCount;
            reasons = db.Query($"""
                SELECT coalesce("column", '(row)') || ': ' || rule AS reason, count(*) AS n FROM {q.ToDuckDbSql()} GROUP BY 1 ORDER BY n DESC LIMIT 8
                """, r => new QuarantineReason(r.GetString(0), Convert.ToInt64(r.GetValue(1))));
        }
        return new DataSummary(tables, counts, quarantined, reasons, Drift(ws, db, versions))
        {
            EmptyColumns = versions.TryGetValue(IngestStage.RawTable, out var rawVersion)
                ? IngestStage.EmptyColumnsUpTo(LakeTables.Open(ws, IngestStage.RawTable), rawVersion) : [],
        };
    }

    /// <summary>
    /// Per-column drift of the features against the version the previous pipeline run reported on. The marker
    /// keeps "previous current", so rendering the same run again (Promote refreshes the report) compares
    /// against the same previous version instead of against itself.
    /// </summary>
    static IReadOnlyList<R.ColumnDrift> Drift(Workspace ws, DuckDB.NET.Data.DuckDBConnection db, IReadOnlyDictionary<string, long> versions)
    {
        if (!versions.TryGetValue(FeaturesStage.Table, out var current)) return [];
        var marker = Path.Combine(ws.StateDir, "report-features-versions.txt");
        var recorded = File.Exists(marker) ? File.ReadAllText(marker).Split(' ') : [];
        long? Parse(int i) => recorded.Length > i && long.TryParse(recorded[i], out var v) ? v : null;
        var previous = Parse(1) == current ? Parse(0) : Parse(1);
        AtomicFile.WriteAllText(marker, $"{previous?.ToString() ?? "-"} {current}");
        if (previous is null || previous == current) return [];
        var table = LakeTables.Open(ws, FeaturesStage.Table);
        var diff = TableDiff.Compare(db, table.Snapshot(previous.Value), table.Snapshot(current));
        return diff.Drift.Where(c => c.Name != ws.Config.Features.Label)
            .Select(c => new R.ColumnDrift(c.Name, c.Kind == DriftKind.Numeric ? "numeric" : "categorical", c.Psi, c.MeanA, c.MeanB, c.Flagged)).ToList();
    }
}
