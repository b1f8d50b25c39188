using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Publishing;

/// <summary>
/// Builds the two sides of a publication: a dev workspace and a prod workspace, each in its own temp folder
/// and git repository, sharing nothing but the folder a test passes between them.
/// </summary>
public static class DevProd
{
    /// <summary>The small test config with dev and prod environments (own lake, state, reports; registry at models/).</summary>
    public static string Config() => SmallConfig.Json().Replace("\"name\": \"small-model\",", """
        "name": "small-model",
        "environments": {
          "dev":  { "lake": "env/dev/lake",  "state": "env/dev/.ctb",  "reports": "env/dev/reports",  "models": "models" },
          "prod": { "lake": "env/prod/lake", "state": "env/prod/.ctb", "reports": "env/prod/reports", "models": "models" }
        },
        """);

    /// <summary>Features without <c>score</c>, the informative column: a model trained on them is worse.</summary>
    public const string FeaturesWithoutScore = "SELECT id, age, city, label = 'yes' AS label FROM raw";

    /// <summary>A dev workspace whose whole pipeline ran, so its champion is v1.</summary>
    public static TempWorkspace Dev(string featuresSql = SmallConfig.FeaturesSql)
    {
        var ws = Repository(featuresSql, ("batch-1.csv", SmallConfig.Rows(600)));
        var context = new StageContext(ws.Load("dev"), ws.Log, new RunOptions());
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);
        return ws;
    }

    /// <summary>
    /// A prod workspace with its own lake built from overlapping raw data (dev's batch plus one of its own),
    /// up to the splits; no model yet.
    /// </summary>
    public static TempWorkspace Prod(string featuresSql = SmallConfig.FeaturesSql)
    {
        var ws = Repository(featuresSql, ("batch-1.csv", SmallConfig.Rows(600)), ("batch-2.csv", SmallConfig.Rows(500, firstId: 601, seed: 3)));
        var context = new StageContext(ws.Load("prod"), ws.Log, new RunOptions());
        foreach (var stage in PipelineDefinition.UpTo("split")) StageRunner.Run(stage, context);
        return ws;
    }

    public static Workspace LoadDev(this TempWorkspace ws) => ws.Load("dev");
    public static Workspace LoadProd(this TempWorkspace ws) => ws.Load("prod");

    /// <summary>Every file under models/ with its sha256: equal before and after means nothing was registered.</summary>
    public static string ModelsSnapshot(TempWorkspace ws)
    {
        var models = Path.Combine(ws.Root, "models");
        if (!Directory.Exists(models)) return "(no models folder)";
        return string.Join("\n", Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(ws.Root, f)} {CtBuild.Hashing.Sha256File(f)}"));
    }

    static TempWorkspace Repository(string featuresSql, params (string Name, string Content)[] raw)
    {
        var ws = new TempWorkspace().WithConfig(Config()).WithFeaturesSql(featuresSql);
        GitRepo.Init(ws.Root);
        foreach (var (name, content) in raw) ws.WriteRaw(name, content);
        File.WriteAllText(Path.Combine(ws.Root, ".gitignore"), "env/\n");
        GitRepo.CommitAll(ws.Root, "config and data");
        return ws;
    }
}
