using System.Globalization;
using CtBuild.Configuration;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using CtBuild.Tracking;
using CtBuild.Training;
using CtBuild.Tuning;

namespace CtBuild.Stages;

/// <summary>
/// Tune: searches the config's space (TPE or random) over ML.NET trainers on the train split, scoring each
/// trial on the valid split. Every trial is a tracked run under the tuning run; the best by validation AUC
/// becomes the candidate (<c>candidate/model.zip</c> + <c>candidate.json</c>).
/// Inputs: splits version, the tune and features config. Output: the candidate model's hash.
/// </summary>
public sealed class TuneStage : Stage
{
    public override string Name => "tune";
    public override string CodeVersion => "tune/5";

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        return StageInputs.Of(
            ("code", CodeVersion),
            ("config.tune", Section(ws.Config.Tune with { Parallelism = 0 })), // parallelism changes speed, not results
            ("config.features", Section(ws.Config.Features)),
            ("splits.version", LakeTables.LatestVersion(ws, SplitStage.Table)?.ToString() ?? "none"));
    }

    public override bool OutputsIntact(StageContext context, StageOutputs recorded)
    {
        var path = CandidateModel.ModelPath(context.Workspace.CandidateDir);
        return File.Exists(path) && CandidateModel.Read(context.Workspace.CandidateDir) is { } c
               && c.ModelSha256 == recorded.Get("candidate.sha256") && Hashing.Sha256File(path) == c.ModelSha256;
    }

    public override StageOutputs Run(StageContext context)
    {
        var ws = context.Workspace;
        var cfg = ws.Config.Tune;
        var worker = context.Options.TuneWorker;
        var space = SearchSpaceParser.Parse(cfg.Space, "tune.space");
        var splits = LakeTables.Latest(ws, SplitStage.Table, "split");
        var (train, valid, signature) = LoadTrainAndValid(ws, splits);
        RequireBothClasses(train, "train", splits.Version);
        RequireBothClasses(valid, "valid", splits.Version);
        context.Log.Info($"tune: {train.Rows.Count} train / {valid.Rows.Count} valid rows from splits v{splits.Version}; " +
                         $"{signature.Numeric.Count} numeric and {signature.Categorical.Count} categorical features" +
                         (NonFeatureColumns.Describe(NonFeatures(ws, splits)) is { Length: > 0 } skipped ? $"; not features: {skipped}" : ""));

        // Successive halving: nested subsamples of the training rows under the seed; the last rung is every row.
        var halving = SuccessiveHalving.ForSetting(cfg.Fidelity, train.Rows.Count);
        var trainer = new TrialTrainer(train, valid, cfg.Seed, halving?.Subsamples(train.Rows.Count, cfg.Seed).SkipLast(1).ToArray());
        context.Log.Info(halving is null
            ? $"tune: successive halving off (tune.fidelity \"{cfg.Fidelity}\"" + (cfg.Fidelity == "auto" ? $", {train.Rows.Count} train rows < {SuccessiveHalving.AutoThreshold}" : "") + ")"
            : $"tune: successive halving on rungs {halving} of the train rows ({string.Join(" / ", trainer.RungRowCounts)} rows), the best 1/{halving.ReductionFactor} go on");
        var parallelism = cfg.Parallelism == 0 ? Environment.ProcessorCount : cfg.Parallelism;
        int? trialThreads = worker?.Threads ?? (parallelism > 1 ? 1 : null);
        var store = TrackingStore.Open(ws.TrackingDir);
        var code = Tracking.CodeVersion.Detect(ws.Root);
        var splitsDigest = splits.CommitInfo?.ContentDigest ?? "";
        using var tuningRun = store.StartRun(ws.Config.Name, $"{(worker is null ? "tune" : "tune worker")} {DateTime.UtcNow:yyyy-MM-dd HH:mm}", codeVersion: code,
            tags: new Dictionary<string, string> { ["stage"] = "tune", ["pipelineRun"] = context.Options.PipelineRunId ?? "" });
        tuningRun.LogInput(SplitStage.Table, splits.Version, splitsDigest);
        tuningRun.LogParams(new Dictionary<string, string>
        {
            ["sampler"] = cfg.Sampler, ["maxEvals"] = cfg.MaxEvals.ToString(CultureInfo.InvariantCulture),
            ["parallelism"] = parallelism.ToString(CultureInfo.InvariantCulture), ["seed"] = cfg.Seed.ToString(CultureInfo.InvariantCulture),
            ["space"] = space.ToString(),
            ["fidelity"] = halving?.ToString() ?? "off", ["costAwareStart"] = cfg.CostAwareStart ? "true" : "false",
            ["costAware"] = cfg.CostAware ? "true" : "false",
        });

        ISampler sampler = cfg.Sampler == "random"
            ? new RandomSampler(cfg.Seed)
            : new TpeSampler(cfg.Seed, TpeOptions.For(cfg.Multivariate) with
            {
                NStartupTrials = cfg.StartupTrials, CostAware = cfg.CostAware, CostBudgetTrials = cfg.MaxEvals,
            });
        if (cfg.CostAwareStart) sampler = new StartPointsSampler(sampler, LowCostStart.Points(space));
        if (halving is not null) sampler = new PrunedRankingSampler(sampler);
        // The study lives under the state folder (or where tune.storage says): a killed or stopped Tune resumes it on
        // rerun; --force starts a new one. A worker (ctb tune worker) joins the same study and makes no candidate.
        var identity = StudyIdentityFor(ws, splits, space, halving, context.Options.Force && worker is null, worker?.Study);
        var localStudies = Path.Combine(ws.StateDir, "studies");
        var storage = StudyStorages.Open(StudyStorages.Location(worker?.Storage, cfg.Storage), localStudies, ws.Root);
        using var connection = storage as IDisposable; // a server's connection pool
        var study = new Study(space, sampler, storage, identity) { Pruner = halving };
        context.Log.Info($"tune: study {identity.Name} at {StudyStorages.Describe(storage)}");
        // Trial models stay on the machine that trained them (in a shared folder store, beside the study); the candidate
        // is the best trial's model if it is here, else that trial trained once more with the same parameters and seed.
        var artifacts = new TrialArtifacts(Path.Combine(storage is FileStudyStorage files ? files.StudyDir(identity.Name) : Path.Combine(localStudies, identity.Name), "artifacts"));
        var resumed = study.Trials.Count(t => t.State.IsFinished() && !t.IsAbandoned);
        if (resumed > 0) context.Log.Info($"tune: resuming study {identity.Name} with {resumed} finished trial(s); they are not trained again");
        tuningRun.SetTag("study", identity.Name);
        var bestLock = new object();
        TrialOutcome Objective(Trial trial, CancellationToken token)
        {
            using var run = store.StartRun(ws.Config.Name, $"trial {trial.Number}", tuningRun.RunId, codeVersion: code,
                tags: new Dictionary<string, string> { ["stage"] = "tune", ["trainer"] = trial.GetString(SearchSpaceParser.TrainerKey), ["study"] = identity.Name });
            artifacts.SetRunId(trial.Number, run.RunId);
            run.LogInput(SplitStage.Table, splits.Version, splitsDigest);
            run.LogParams(trial.Params.ToDictionary(p => p.Key, p => Format(p.Value)));
            try
            {
                Microsoft.ML.ITransformer? model = null;
                double auc = double.NaN, logLoss = double.NaN;
                (double, double) FitRung(int? rung)
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    (model, auc, logLoss) = trainer.Fit(ml => TrainerCatalog.Create(ml, trial.Params, threads: trialThreads), cfg.Seed + trial.Number, rung, token);
                    var spent = clock.Elapsed.TotalSeconds;
                    if (rung is { } r) LogRung(run, trial, r, auc, logLoss, spent);
                    return (auc, spent);
                }
                var seconds = halving is null ? FitRung(null).Item2 : halving.Climb(trial, r => FitRung(r));
                run.LogMetric("valid_auc", auc);
                run.LogMetric("valid_logloss", logLoss);
                run.LogMetric("training_seconds", seconds);
                if (!double.IsFinite(auc)) throw new InvalidOperationException($"validation AUC is {auc}");
                // Keep the model of a trial that is the best so far, so a resumed study can make it the candidate (with
                // tune.refit the candidate is trained afresh, so no trial model is written).
                if (!cfg.Refit)
                    lock (bestLock)
                        if (study.BestTrial is not { } sofar || auc > sofar.Value) artifacts.SaveModel(trial.Number, model!, trainer.FeaturizedSchema);
                run.End(RunStatus.Finished);
                return new TrialOutcome(auc, new Dictionary<string, double> { ["logloss"] = logLoss }, model) { Cost = seconds };
            }
            catch (TrialPrunedException pruned)
            {
                run.SetTag("state", "pruned");
                run.SetTag("pruned", pruned.Message);
                run.LogMetric("training_seconds", pruned.Cost ?? 0);
                run.End(RunStatus.Finished);
                throw;
            }
            catch (Exception ex)
            {
                run.End(RunStatus.Failed, ex is OperationCanceledException ? "stopped: " + ex.Message : ex.Message);
                throw;
            }
        }

        // Every rung result is a tracked run of its own, under the trial's run.
        void LogRung(RunWriter trialRun, Trial trial, int rung, double auc, double logLoss, double seconds)
        {
            using var rungRun = store.StartRun(ws.Config.Name, $"trial {trial.Number} rung {rung} ({SuccessiveHalving.FormatFraction(halving!.Fractions[rung])})",
                trialRun.RunId, codeVersion: code,
                tags: new Dictionary<string, string> { ["stage"] = "tune", ["trainer"] = trial.GetString(SearchSpaceParser.TrainerKey), ["study"] = identity.Name, ["rung"] = rung.ToString(CultureInfo.InvariantCulture) });
            rungRun.LogParams(new Dictionary<string, string> { ["rows"] = trainer.RungRowCounts[rung].ToString(CultureInfo.InvariantCulture), ["fraction"] = SuccessiveHalving.FormatFraction(halving.Fractions[rung]) });
            rungRun.LogMetric("valid_auc", auc);
            rungRun.LogMetric("valid_logloss", logLoss);
            rungRun.LogMetric("training_seconds", seconds);
            trialRun.LogMetric("rung_valid_auc", auc, rung);
            rungRun.End(RunStatus.Finished);
        }

        var options = new StudyOptions
        {
            MaxEvals = cfg.MaxEvals,
            Budget = cfg.TimeBudget is null ? null : Durations.Parse(cfg.TimeBudget),
            Patience = cfg.EarlyStopping?.Patience,
            MinImprovement = cfg.EarlyStopping?.MinDelta ?? 0,
            Parallelism = parallelism,
            TrialTimeout = cfg.TrialTimeout switch
            {
                "none" => null,
                "auto" => TrialTimeouts.Derived(multiple: 5, floor: TimeSpan.FromSeconds(60), minCompleted: 3),
                var fixedTimeout => TrialTimeouts.Fixed(Durations.Parse(fixedTimeout)),
            },
            HeartbeatTimeout = Durations.Parse(cfg.HeartbeatTimeout),
            HeartbeatInterval = Durations.Parse(cfg.HeartbeatTimeout) / 6,
            // The stage picks the best over all workers, so it waits for theirs; a worker just leaves when the budget is spent.
            WaitForOtherWorkers = worker is null,
        };
        var progress = new Progress(context.Log);
        var result = study.Optimize(Objective, options, progress, context.Cancellation);
        var best = result.BestTrial;
        if (worker is not null)
        {
            var mine = result.Trials.Count(t => t.Worker == study.Worker.ToString() && t.State.IsFinished());
            tuningRun.SetTag("stop_reason", result.StopReason.ToString());
            tuningRun.End(RunStatus.Finished);
            return StageOutputs.Of($"worker ran {mine} trial(s) of study {identity.Name} ({result.Trials.Count} in the study, stopped by {result.StopReason}); " +
                                   $"best so far {(best?.Value is { } b ? b.ToString("0.0000", CultureInfo.InvariantCulture) : "-")}",
                ("study", identity.Name), ("trials.mine", mine.ToString(CultureInfo.InvariantCulture)),
                ("trials.study", result.Trials.Count.ToString(CultureInfo.InvariantCulture)), ("stop", result.StopReason.ToString()));
        }
        if (best is null)
        {
            tuningRun.End(RunStatus.Failed, "every trial failed");
            var errors = result.Trials.Where(t => t.Error is not null).GroupBy(t => t.Error).Select(g => $"{g.Count()}× {g.Key}");
            throw new CtBuildException($"Every one of {result.Trials.Count} trials failed: {string.Join("; ", errors.Take(3))}. Check tune.space in {ws.ConfigPath}.");
        }

        // The candidate: featurizer + best trainer, saved with its record; written last so a crash never leaves a half candidate.
        // With tune.refit the chosen configuration learns from the valid rows too (the choice is already made on them).
        // It trains on the trials' threads: LightGBM's threads spin while they wait, so on a busy machine more of them
        // cost far more CPU than they save (README "Tuning").
        var bestModel = cfg.Refit ? null : best.Attachment as Microsoft.ML.ITransformer ?? artifacts.LoadModel(new Microsoft.ML.MLContext(cfg.Seed), best.Number);
        if (cfg.Refit)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            bestModel = trainer.FitOnTrainAndValid(ml => TrainerCatalog.Create(ml, best.Params, threads: trialThreads), cfg.Seed + best.Number);
            context.Log.Info($"tune: trained best trial #{best.Number}'s configuration on train and valid ({trainer.TrainAndValidRowCount} rows) as the candidate in {clock.Elapsed.TotalSeconds:0.0}s");
        }
        else if (bestModel is null)
        {
            context.Log.Info($"tune: the model of best trial #{best.Number} was not kept; training it once more");
            bestModel = trainer.Fit(ml => TrainerCatalog.Create(ml, best.Params), cfg.Seed + best.Number).Model;
        }
        var chain = trainer.Chain(bestModel);
        Directory.CreateDirectory(ws.CandidateDir);
        var modelPath = CandidateModel.ModelPath(ws.CandidateDir);
        ModelScoring.Save(chain, trainer.InputSchema, modelPath);
        FaultInjection.Point("tune.after-model-save", modelPath);
        var sha = Hashing.Sha256File(modelPath);
        var bestRunId = artifacts.RunId(best.Number);
        var importance = TrainerFeatureImportance.Compute(bestModel, trainer.SlotNames);
        var trials = result.Trials.OrderBy(t => t.Number).Select(t => new TrialSummary(t.Number, artifacts.RunId(t.Number),
            t.Params.TryGetValue(SearchSpaceParser.TrainerKey, out var tr) ? tr.ToString()! : "",
            t.Params.Where(p => p.Key != SearchSpaceParser.TrainerKey).ToDictionary(p => p.Key, p => Format(p.Value)),
            t.Value, t.Metrics.TryGetValue("logloss", out var ll) ? ll : null, t.Duration?.TotalSeconds ?? 0, t.State.ToString(), t.Error)
            {
                Rungs = halving is null ? null : t.Intermediate.OrderBy(i => i.Key).Select(i => new RungSummary(i.Key, halving.Fractions[i.Key], trainer.RungRowCounts[i.Key], i.Value)).ToList(),
            }).ToList();
        var candidate = new CandidateModel(bestRunId, tuningRun.RunId, best.Number, trials.First(t => t.Number == best.Number).Trainer,
            trials.First(t => t.Number == best.Number).Params, best.Value!.Value, best.Metrics.GetValueOrDefault("logloss"),
            splits.Version, splitsDigest, signature, sha, importance, trials, cfg.Sampler, result.StopReason.ToString(), DateTimeOffset.UtcNow)
        {
            TrainedOn = cfg.Refit ? "train+valid" : "train",
            TrainedRows = cfg.Refit ? trainer.TrainAndValidRowCount : train.Rows.Count,
        };
        candidate.Write(ws.CandidateDir);

        if (bestRunId.Length > 0) store.SetTag(bestRunId, "candidate", "true");
        tuningRun.LogMetric("best_valid_auc", best.Value!.Value);
        tuningRun.SetTag("best_trial_run", bestRunId);
        tuningRun.SetTag("stop_reason", result.StopReason.ToString());
        tuningRun.LogArtifact("model.zip", modelPath);
        tuningRun.LogArtifact("candidate.json", Path.Combine(ws.CandidateDir, CandidateModel.RecordFile));
        tuningRun.End(RunStatus.Finished);

        var failed = result.Trials.Count(t => t.State == TrialState.Failed);
        var timedOut = result.Trials.Count(t => t.State == TrialState.TimedOut);
        var prunedCount = result.Trials.Count(t => t.State == TrialState.Pruned);
        return StageOutputs.Of(
            $"{result.Trials.Count} trials ({failed} failed, {timedOut} timed out{(halving is null ? "" : $", {prunedCount} pruned")}, stopped by {result.StopReason}); best #{best.Number} {candidate.Trainer} valid AUC {best.Value:0.0000}{(cfg.Refit ? ", refit on train+valid" : "")}",
            ("candidate.sha256", sha), ("candidate.run", bestRunId), ("tuning.run", tuningRun.RunId));
    }

    /// <summary>
    /// The study of this Tune: named after the model, the splits version and a hash of what decides the trials; a
    /// forced run gets a new study rather than reusing the finished one.
    /// </summary>
    static StudyIdentity StudyIdentityFor(Configuration.Workspace ws, Lake.DeltaSnapshot splits, SearchSpace space, SuccessiveHalving? halving, bool fresh, string? name = null)
    {
        var cfg = ws.Config.Tune;
        var inputs = new Dictionary<string, string>
        {
            ["code"] = "tune-study/1",
            ["splits.version"] = splits.Version.ToString(CultureInfo.InvariantCulture),
            ["splits.digest"] = splits.CommitInfo?.ContentDigest ?? "",
            ["features"] = Section(ws.Config.Features),
            ["space"] = space.ToJson().ToJsonString(),
            ["seed"] = cfg.Seed.ToString(CultureInfo.InvariantCulture),
            ["sampler"] = $"{cfg.Sampler} startup={cfg.StartupTrials} multivariate={cfg.Multivariate} tpe={(cfg.Multivariate ? "optuna-5" : "optuna-3.1")}" + (cfg.CostAware ? $" cost-aware budget={cfg.MaxEvals}" : ""),
            ["start"] = cfg.CostAwareStart ? "low-cost" : "sampler",
            ["fidelity"] = halving is null ? "off" : $"{halving} eta={halving.ReductionFactor}",
        };
        var hash = Hashing.Sha256Hex(string.Join("\n", inputs.OrderBy(i => i.Key, StringComparer.Ordinal).Select(i => $"{i.Key}={i.Value}")));
        var model = new string(ws.Config.Name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray());
        name ??= $"{model}-s{splits.Version}-{hash[..10]}" + (fresh ? $"-{DateTime.UtcNow:yyyyMMddHHmmssfff}" : "");
        return new StudyIdentity(name, StudyDirection.Maximize, inputs);
    }

    /// <summary>The train and valid rows of a splits snapshot, with the signature its column types give.</summary>
    public static (ModelInput Train, ModelInput Valid, FeatureSignature Signature) LoadTrainAndValid(Configuration.Workspace ws, Lake.DeltaSnapshot splits)
        => SplitRows.LoadTrainAndValid(ws, splits);

    /// <summary>The splits' columns that are not features, with why.</summary>
    public static IReadOnlyList<NonFeatureColumn> NonFeatures(Configuration.Workspace ws, Lake.DeltaSnapshot splits) =>
        NonFeatureColumns.Of(splits.Schema, ws.Config.Features.Exclude, ws.Config.Split.Key, SplitStage.SplitColumn);

    static void RequireBothClasses(ModelInput input, string split, long version)
    {
        var positives = input.Rows.Count(r => r.Label);
        if (input.Rows.Count == 0 || positives == 0 || positives == input.Rows.Count)
            throw new CtBuildException($"The {split} split of splits v{version} has {input.Rows.Count} rows and {positives} positives: a model needs both classes. Add data or change the split ratios.");
    }

    static string Format(object value) => value switch
    {
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    sealed class Progress(IPipelineLog log) : IProgress<TrialProgress>
    {
        public void Report(TrialProgress p) => log.Progress("tune: trial", p.Finished, p.Total,
            $"best AUC {(p.BestValue is { } b ? b.ToString("0.0000", CultureInfo.InvariantCulture) : "-")}, " +
            $"~{Math.Ceiling(p.Remaining.TotalSeconds)}s left");
    }
}
