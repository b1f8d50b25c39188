using CtBuild.Lake;
using CtBuild.Evaluation;
using CtBuild.Pipeline;
using CtBuild.Stages;
using CtBuild.Storage;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Pipeline;

/// <summary>Nothing in the engine knows about Adult: another dataset takes a config, a SQL file and a space.</summary>
public sealed class AnyDatasetTests
{
    [Fact]
    public void Titanic_with_missing_ages_runs_end_to_end_from_config_alone()
    {
        using var ws = new TempWorkspace().WithConfig("""
            {
              "name": "titanic",
              "ingest": {
                "missingValues": [""],
                "label": { "column": "survived", "positive": "survived", "values": ["survived", "died"] },
                "columns": {
                  "pclass":   { "type": "string", "values": ["1st", "2nd", "3rd"] },
                  "survived": { "type": "string", "nullable": false },
                  "sex":      { "type": "string", "values": ["female", "male"] },
                  "age":      { "type": "double", "min": 0, "max": 100 },
                  "sibsp":    { "type": "int", "min": 0 },
                  "parch":    { "type": "int", "min": 0 }
                }
              },
              "features": { "sql": "features/features.sql" },
              "tune": { "maxEvals": 4, "parallelism": 1, "sampler": "random",
                        "space": { "trainer": { "choice": { "LbfgsLogisticRegression": {}, "FastTree": { "numberOfTrees": "int(20, 60)" } } } } },
              "evaluate": { "resamples": 200, "minAuc": 0.75 }
            }
            """).WithFeaturesSql("SELECT pclass, sex, age, sibsp, parch, sibsp + parch AS family, survived = 'survived' AS label FROM raw");
        File.Copy(Path.Combine(TempWorkspace.SharedDatasets, "titanic.csv"), Path.Combine(ws.RawDir, "titanic.csv").EnsureFolder());

        var context = ws.Context(new RunOptions { NoCommit = true });
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);

        var record = EvaluationRecord.Read(ws.Load().DecisionDir)!;
        Assert.Equal(GateOutcome.Promote, record.Decision.Outcome);
        Assert.InRange(record.Decision.Candidate.Auc, 0.75, 1.0);
        using var db = CtBuild.Storage.DuckDb.Open();
        var raw = LakeTables.Open(ws.Load(), "raw").Snapshot();
        Assert.Equal(1309, raw.RowCount);
        Assert.Equal(263, db.Scalar<long>($"SELECT count(*) FROM {raw.ToDuckDbSql()} WHERE age IS NULL"));
        Assert.True(File.Exists(Path.Combine(ws.Root, "models", "titanic", "versions", "v1.json")));
    }
}

static class PathExtensions
{
    public static string EnsureFolder(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
