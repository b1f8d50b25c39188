using CtBuild.Evaluation;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Serving;
using CtBuild.Storage;
using CtBuild.Tests.Support;
using CtBuild.Training;
using static CtBuild.Tests.Serving.ServingTestData;

namespace CtBuild.Tests.Serving;

[Collection(TrainedTemplateGroup.Name)]
public sealed class BatchPredictorTests(TrainedTemplate template) : IDisposable
{
    readonly TempWorkspace _ws = template.Copy();

    public void Dispose() => _ws.Dispose();

    PredictResult Predict(string input, string output, string? model = null, bool toLake = false) =>
        BatchPredictor.Run(_ws.Load(), new PredictOptions(input, Path.Combine(_ws.Root, output), ModelReference.Parse(model, "small-model"), toLake), _ws.Log);

    [Fact]
    public void Scores_of_the_test_split_equal_the_Evaluate_stage_s()
    {
        var ws = _ws.Load();
        var result = Predict("splits", "scores.parquet");
        var predicted = Predictions(result.Output);

        // What Evaluate does for the champion: the test rows of the same splits snapshot through ModelScoring.
        var splits = DeltaTable.At(Path.Combine(ws.LakeDir, "splits")).Snapshot();
        var decision = EvaluationRecord.Read(ws.DecisionDir)!.Decision;
        Assert.Equal(splits.Version, decision.TestSnapshot.Version);
        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var champion = registry.ResolveAlias("small-model", ModelRegistry.ChampionAlias)!;
        var signature = FeatureSignature.FromColumns(champion.InputSignature.Select(c => (c.Name, c.Type)), "label");
        using var db = Db();
        var test = ModelInput.Load(db, splits, signature, "test", "id");
        var ids = db.Query($"SELECT CAST(id AS VARCHAR) FROM {splits.ToDuckDbSql()} WHERE split = 'test' ORDER BY id", r => r.GetString(0));
        using var stream = registry.OpenModelFile("small-model", champion.Version);
        var evaluateScores = ModelScoring.Score(new Microsoft.ML.MLContext(1).Model.Load(stream, out _), test);

        Assert.Equal(ids.Count, evaluateScores.Length);
        for (var i = 0; i < ids.Count; i++) Assert.Equal(evaluateScores[i], predicted[ids[i]].Score);
        // and the AUC Evaluate recorded for this model comes out of predict's scores
        var auc = Auc.Compute(test.Labels, ids.Select(id => predicted[id].Score).ToArray());
        Assert.Equal(decision.Candidate.Auc, auc, 12);
        Assert.Equal(splits.RowCount, result.Scored);
        Assert.Equal(0, result.Rejected);
    }

    [Fact]
    public void A_raw_file_is_judged_by_the_contract_scored_through_the_features_SQL_and_the_counts_add_up()
    {
        var lines = SmallConfig.Rows(40).TrimEnd('\n').Split('\n').ToList();   // ids 1..40, already trained on
        lines[0] = "id,age,city,score";                                          // no label: records to score
        for (var i = 1; i < lines.Count; i++) lines[i] = lines[i][..lines[i].LastIndexOf(',')];
        lines.Add("41,200,Oslo,1.5");        // line 42: age above the maximum
        lines.Add("42,30,Paris,2.0");        // line 43: city not allowed
        lines.Add("43,thirty,Lima,2.0");     // line 44: not an int
        lines.Add("44,30,Lima");             // line 45: too few fields
        var file = Path.Combine(_ws.Root, "to-score.csv");
        File.WriteAllText(file, string.Join("\n", lines) + "\n");

        var result = Predict(file, "out/scores.csv");

        Assert.Equal(44, result.InputRows);
        Assert.Equal(40, result.Scored);
        Assert.Equal(4, result.Rejected);
        using var db = Db();
        var rejects = db.Query($"SELECT source_file, line, \"column\", reason FROM read_csv('{result.RejectsFile}', header = true) ORDER BY line",
            r => (File: r.GetString(0), Line: r.GetInt64(1), Column: r.IsDBNull(2) ? null : r.GetString(2), Reason: r.GetString(3)));
        Assert.All(rejects, r => Assert.Equal("to-score.csv", r.File));
        Assert.Equal([42L, 43, 44, 45], rejects.Select(r => r.Line));
        Assert.Contains("above the maximum", rejects[0].Reason);
        Assert.Equal("city", rejects[1].Column);
        Assert.Contains("not an allowed value", rejects[1].Reason);

        // The same people scored from the features table get the same scores.
        var fromFeatures = Predictions(Predict("features", "features-scores.parquet").Output);
        var fromFile = Predictions(result.Output);
        Assert.Equal(40, fromFile.Count);
        foreach (var (key, p) in fromFile) Assert.Equal(fromFeatures[key], p);
        var lineOf = db.Query($"SELECT CAST(\"key\" AS VARCHAR), line FROM read_csv('{result.Output}', header = true)", r => (r.GetString(0), r.GetInt64(1)));
        Assert.All(lineOf, x => Assert.Equal(long.Parse(x.Item1) + 1, x.Item2)); // id N is on line N + 1
    }

    [Fact]
    public void A_file_without_a_required_column_is_refused_naming_it()
    {
        var ws = _ws.Load();
        var file = Path.Combine(_ws.Root, "no-id.csv");
        File.WriteAllText(file, "age,city,score\n30,Oslo,2.5\n");
        var ex = Assert.ThrowsAny<CtBuildException>(() => Predict(file, "x.parquet"));
        Assert.Contains("id", ex.Message);
        Assert.Contains("missing", ex.Message);
        Assert.False(File.Exists(Path.Combine(_ws.Root, "x.parquet")));
    }

    [Fact]
    public void To_lake_appends_a_predictions_version_whose_commit_names_the_model_version_and_the_input_snapshot()
    {
        var result = Predict("features@0", "scores.parquet", model: "small-model:1", toLake: true);
        var table = DeltaTable.At(Path.Combine(_ws.Load().LakeDir, BatchPredictor.PredictionsTable));
        var commit = table.History().Single(h => h.Version == result.PredictionsVersion);
        Assert.Equal("PREDICT", commit.Operation);
        Assert.Equal("1", commit.OperationParameters["modelVersion"]);
        Assert.Equal("features@0", commit.OperationParameters["input"]);
        Assert.Equal(result.ModelSha256, commit.OperationParameters["modelSha256"]);
        Assert.Equal(result.Scored, table.Snapshot().RowCount);
    }

    [Fact]
    public void A_tampered_model_file_is_refused_and_nothing_is_written()
    {
        var model = Directory.GetFiles(Path.Combine(_ws.Root, "models"), "model.zip", SearchOption.AllDirectories).Single();
        File.AppendAllText(model, "x");
        var ex = Assert.Throws<RegistryIntegrityException>(() => Predict("features", "scores.parquet"));
        Assert.Contains("sha256", ex.Message);
        Assert.False(File.Exists(Path.Combine(_ws.Root, "scores.parquet")));
    }

    [Fact]
    public void Model_references_name_an_alias_or_a_version()
    {
        Assert.Equal(new ModelReference("m", "champion", null), ModelReference.Parse(null, "m"));
        Assert.Equal(new ModelReference("m", "challenger", null), ModelReference.Parse("@challenger", "m"));
        Assert.Equal(new ModelReference("x", null, 3), ModelReference.Parse("x:3", "m"));
        Assert.Equal(2, Assert.ThrowsAny<CtBuildException>(() => ModelReference.Parse("x:three", "m")).ExitCode);
        var ex = Assert.ThrowsAny<CtBuildException>(() => Predict("features", "s.parquet", model: "small-model@challenger"));
        Assert.Contains("no alias 'challenger'", ex.Message);
    }
}
