using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Tests.Support;
using DuckDB.NET.Data;

namespace CtBuild.Tests.Serving;

/// <summary>
/// The small workspace trained once (ingest → promote, champion v1) for all serving tests; each test gets its
/// own copy in a temp folder, so tests that promote or tamper run in parallel safely.
/// </summary>
public sealed class TrainedTemplate : IDisposable
{
    public TempWorkspace Workspace { get; } = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public TrainedTemplate()
    {
        Workspace.WriteRaw("batch-1.csv", SmallConfig.Rows(600));
        var context = Workspace.Context(new RunOptions { NoCommit = true });
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);
    }

    /// <summary>A private copy of the trained workspace.</summary>
    public TempWorkspace Copy()
    {
        var copy = new TempWorkspace();
        foreach (var file in Directory.EnumerateFiles(Workspace.Root, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy.Root, Path.GetRelativePath(Workspace.Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    public void Dispose() => Workspace.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TrainedTemplateGroup : ICollectionFixture<TrainedTemplate>
{
    public const string Name = "serving";
}

static class ServingTestData
{
    public static DuckDBConnection Db() => DuckDb.Open();

    /// <summary>(key, score, label) of a predictions file, by key.</summary>
    public static Dictionary<string, (double Score, bool Label)> Predictions(string file)
    {
        using var db = Db();
        var reader = file.EndsWith(".csv") ? $"read_csv('{file}', header = true)" : $"read_parquet('{file}')";
        return db.Query($"SELECT CAST(\"key\" AS VARCHAR), score, label FROM {reader}", r => (r.GetString(0), r.GetDouble(1), r.GetBoolean(2)))
            .ToDictionary(x => x.Item1, x => (x.Item2, x.Item3));
    }

    /// <summary>Makes a new champion with the same model file (different metrics, so it is a new version).</summary>
    public static int PromoteCopyOfChampion(TempWorkspace ws, string reason)
    {
        var w = ws.Load();
        var registry = ModelRegistry.Open(w.RegistryRoot);
        var champion = registry.ResolveAlias(w.Config.Name, ModelRegistry.ChampionAlias)!;
        var folder = Path.Combine(w.ModelsDir, w.Config.Name);
        var draft = new ModelVersionDraft(champion.SourceRunId, champion.Trainer, champion.TrainerParams,
            new Dictionary<string, double>(champion.Metrics) { ["reason_" + reason] = champion.Version },
            champion.DataVersions, champion.InputSignature,
            champion.Artifacts.Select(a => new DraftArtifact(a.Name, Path.Combine(folder, a.Path))).ToList());
        return registry.Promote(w.Config.Name, draft, new Dictionary<string, double>(), reason, commit: false).Version!.Value;
    }
}
