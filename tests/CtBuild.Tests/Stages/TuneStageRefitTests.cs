using CtBuild.Stages;
using CtBuild.Tests.Support;
using CtBuild.Tracking;
using CtBuild.Training;
using Microsoft.ML;

namespace CtBuild.Tests.Stages;

/// <summary>tune.refit: the candidate learns from the valid rows too, or (off) is the best trial's own model.</summary>
public sealed class TuneStageRefitTests
{
    /// <summary>The candidate's valid scores, and those of the best trial's configuration trained on train alone and on train + valid.</summary>
    static (CandidateModel Candidate, double[] Scores, double[] OnTrain, double[] OnBoth, int TrainRows, int ValidRows) Tune(string refit)
    {
        using var temp = SmallConfig.Tuned($", \"refit\": {refit}");
        var ws = temp.Load();
        var candidate = CandidateModel.Read(ws.CandidateDir)!;
        var (train, valid, _) = TuneStage.LoadTrainAndValid(ws, CtBuild.Lake.LakeTables.Latest(ws, SplitStage.Table, "split"));
        var scores = ModelScoring.Score(ModelScoring.Load(new MLContext(1), CandidateModel.ModelPath(ws.CandidateDir)), valid);
        var study = TrackingStore.Open(ws.TrackingDir, readOnly: true).GetRun(candidate.TuningRunId).Tags["study"];
        var parameters = new CtBuild.Tuning.FileStudyStorage(Path.Combine(ws.StateDir, "studies")).Trials(study).Single(t => t.Number == candidate.TrialNumber).Params;
        var trainer = new TrialTrainer(train, valid, ws.Config.Tune.Seed);
        var seed = ws.Config.Tune.Seed + candidate.TrialNumber;
        var onTrain = ModelScoring.Score(trainer.Chain(trainer.Fit(m => TrainerCatalog.Create(m, parameters), seed).Model), valid);
        var onBoth = ModelScoring.Score(trainer.Chain(trainer.FitOnTrainAndValid(m => TrainerCatalog.Create(m, parameters), seed)), valid);
        return (candidate, scores, onTrain, onBoth, train.Rows.Count, valid.Rows.Count);
    }

    [Fact]
    public void Without_refit_the_candidate_is_the_best_trials_model_trained_on_train()
    {
        var (candidate, scores, onTrain, _, trainRows, _) = Tune("false");
        Assert.Equal(("train", trainRows), (candidate.TrainedOn, candidate.TrainedRows));
        Assert.Equal(onTrain, scores);
    }

    [Fact]
    public void With_refit_the_candidate_is_the_best_configuration_trained_on_train_and_valid()
    {
        var (candidate, scores, onTrain, onBoth, trainRows, validRows) = Tune("true");
        Assert.Equal(("train+valid", trainRows + validRows), (candidate.TrainedOn, candidate.TrainedRows));
        Assert.Equal(onBoth, scores);
        Assert.NotEqual(onTrain, scores); // the valid rows changed the model
    }
}
