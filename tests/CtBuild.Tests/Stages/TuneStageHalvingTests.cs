using CtBuild.Pipeline;
using CtBuild.Stages;
using CtBuild.Tests.Support;
using CtBuild.Tracking;
using CtBuild.Training;
using Microsoft.ML;

namespace CtBuild.Tests.Stages;

/// <summary>Tune with successive halving: rung trials are tracked and reported, and the candidate is trained on all train and valid rows.</summary>
public sealed class TuneStageHalvingTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace()
        .WithConfig(SmallConfig.Json(tune: ", \"fidelity\": \"1/3, 1\"").Replace("\"maxEvals\": 3", "\"maxEvals\": 8"))
        .WithFeaturesSql(SmallConfig.FeaturesSql);

    public TuneStageHalvingTests() => _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(600));

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Rungs_are_tracked_runs_pruned_trials_are_recorded_and_the_candidate_is_trained_on_all_train_and_valid_rows()
    {
        var context = _ws.Context(new RunOptions { NoCommit = true });
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);
        var ws = _ws.Load();
        var candidate = CandidateModel.Read(ws.CandidateDir)!;

        var (train, valid, _) = TuneStage.LoadTrainAndValid(ws, CtBuild.Lake.LakeTables.Latest(ws, SplitStage.Table, "split"));
        Assert.All(candidate.Trials, t => Assert.NotNull(t.Rungs));
        Assert.Contains(candidate.Trials, t => t.State == "Pruned" && t.Rungs!.Count == 1);
        var complete = candidate.Trials.Where(t => t.State == "Complete").ToArray();
        Assert.NotEmpty(complete);
        Assert.All(complete, t =>
        {
            Assert.Equal([(train.Rows.Count + 2) / 3, train.Rows.Count], t.Rungs!.Select(r => r.Rows));
            Assert.Equal(t.ValidAuc, t.Rungs![^1].ValidAuc);
        });

        // The best trial's value is its model trained on every training row, not on a rung's share; the candidate is
        // that configuration trained once more on train and valid (tune.refit, on by default).
        var best = candidate.Trials.Single(t => t.Number == candidate.TrialNumber);
        Assert.Equal("Complete", best.State);
        var ml = new MLContext(1);
        var scores = ModelScoring.Score(ModelScoring.Load(ml, CandidateModel.ModelPath(ws.CandidateDir)), valid);
        var refit = new TrialTrainer(train, valid, ws.Config.Tune.Seed);
        var studyName = TrackingStore.Open(ws.TrackingDir, readOnly: true).GetRun(candidate.TuningRunId).Tags["study"];
        var parameters = new CtBuild.Tuning.FileStudyStorage(Path.Combine(ws.StateDir, "studies")).Trials(studyName).Single(t => t.Number == best.Number).Params;
        var onTrain = refit.Fit(m => TrainerCatalog.Create(m, parameters), ws.Config.Tune.Seed + best.Number).Model;
        Assert.Equal(best.ValidAuc!.Value, CtBuild.Evaluation.Auc.Compute(valid.Labels, ModelScoring.Score(refit.Chain(onTrain), valid)), 9);
        var onBoth = refit.FitOnTrainAndValid(m => TrainerCatalog.Create(m, parameters), ws.Config.Tune.Seed + best.Number);
        Assert.Equal(ModelScoring.Score(refit.Chain(onBoth), valid), scores);
        Assert.Equal(("train+valid", train.Rows.Count + valid.Rows.Count), (candidate.TrainedOn, candidate.TrainedRows));

        // Every rung result is a tracked run under its trial's run.
        var store = TrackingStore.Open(ws.TrackingDir, readOnly: true);
        var runs = store.ListRuns();
        var rungRuns = runs.Where(r => r.Tags.ContainsKey("rung")).ToArray();
        Assert.Equal(candidate.Trials.Sum(t => t.Rungs!.Count), rungRuns.Length);
        Assert.All(rungRuns, r => Assert.Contains(runs, p => p.Id == r.ParentRunId && p.Name.StartsWith("trial ", StringComparison.Ordinal)));

        // The report's tuning section shows the rungs.
        var html = File.ReadAllText(Directory.EnumerateFiles(ws.ReportsDir, "report.html", SearchOption.AllDirectories).First());
        Assert.Contains("Successive halving on rungs <strong>1/3, 1</strong>", html);
        Assert.Contains("Rungs (valid AUC)", html);
    }
}
