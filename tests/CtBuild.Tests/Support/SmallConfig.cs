namespace CtBuild.Tests.Support;

/// <summary>A small contract (id, age, city, score, label) for stage tests that need exact control of rows.</summary>
public static class SmallConfig
{
    public const string Header = "id,age,city,score,label";

    public static string Json(string extraIngest = "", string tune = "") => $$"""
        {
          // a small test config
          "name": "small-model",
          "ingest": {
            "key": "id",
            "maxBadFraction": 0.5,
            {{extraIngest}}
            "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
            "columns": {
              "id":    { "type": "int", "nullable": false },
              "age":   { "type": "int", "min": 0, "max": 120 },
              "city":  { "type": "string", "values": ["Oslo", "Lima", "Pune"] },
              "score": { "type": "double" },
              "label": { "type": "string", "nullable": false }
            }
          },
          "features": { "sql": "features/features.sql", "exclude": ["id"] },
          "split": { "key": "id" },
          "tune": {
            "maxEvals": 3, "parallelism": 1, "sampler": "random",
            "space": { "trainer": { "choice": { "LbfgsLogisticRegression": {} } } } {{tune}}
          },
          "evaluate": { "resamples": 200, "minAuc": 0.5 }
        }
        """;

    public const string FeaturesSql = "SELECT id, age, city, score, label = 'yes' AS label FROM raw";

    /// <summary>Rows whose label depends on score and city, so a model can learn it.</summary>
    /// <summary>
    /// A workspace of this config with <paramref name="tune"/> added to its tune section and 400 rows delivered, run through
    /// Tune (no commit): the stage tests of tune's options read its candidate, tuning run and study. The caller disposes it.
    /// </summary>
    public static TempWorkspace Tuned(string tune)
    {
        var temp = new TempWorkspace().WithConfig(Json(tune: tune)).WithFeaturesSql(FeaturesSql);
        temp.WriteRaw("batch-1.csv", Rows(400));
        var context = temp.Context(new CtBuild.Pipeline.RunOptions { NoCommit = true });
        foreach (var stage in CtBuild.Pipeline.PipelineDefinition.UpTo("tune")) CtBuild.Pipeline.StageRunner.Run(stage, context);
        return temp;
    }

    public static string Rows(int count, int firstId = 1, int seed = 1)
    {
        var random = new Random(seed);
        var cities = new[] { "Oslo", "Lima", "Pune" };
        var lines = new List<string> { Header };
        for (var i = 0; i < count; i++)
        {
            var city = cities[random.Next(3)];
            var score = Math.Round(random.NextDouble() * 10, 3);
            var yes = score + (city == "Oslo" ? 2 : 0) + random.NextDouble() * 3 > 7;
            lines.Add($"{firstId + i},{random.Next(18, 80)},{city},{score.ToString(System.Globalization.CultureInfo.InvariantCulture)},{(yes ? "yes" : "no")}");
        }
        return string.Join("\n", lines) + "\n";
    }
}
