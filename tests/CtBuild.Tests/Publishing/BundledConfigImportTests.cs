using CtBuild.Pipeline;
using CtBuild.Publishing;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Publishing;

/// <summary>
/// Import with the repository's own <c>ctbuild.json</c> and <c>.gitignore</c> as shipped: prod's registry
/// (<c>env/prod/models</c>) must be committable, which the other tests (registry at <c>models/</c>) cannot see.
/// </summary>
public sealed class BundledConfigImportTests : IDisposable
{
    readonly TempWorkspace _ws = new();
    readonly string _shared = Directory.CreateTempSubdirectory("ctb-shared-").FullName;

    public void Dispose()
    {
        _ws.Dispose();
        Directory.Delete(_shared, recursive: true);
    }

    [Fact]
    public void Ctb_import_into_prod_with_the_bundled_config_and_gitignore_ends_in_a_promotion_commit()
    {
        var repo = TempWorkspace.RepoRoot;
        // Only the tuning budget is cut down; environments, contract, features and .gitignore are the shipped ones.
        var config = File.ReadAllText(Path.Combine(repo, "ctbuild.json"));
        Assert.Contains("\"maxEvals\": 60", config);
        _ws.WithConfig(config.Replace("\"maxEvals\": 60", "\"maxEvals\": 2"))
            .WithFeaturesSql(File.ReadAllText(Path.Combine(repo, "features", "features.sql")));
        File.Copy(Path.Combine(repo, ".gitignore"), Path.Combine(_ws.Root, ".gitignore"));
        var batch = Path.Combine(repo, "data", "raw", "adult-2026-11-02.csv.gz");
        _ws.WriteRawBytes("adult-2026-11-02.csv.gz", File.ReadAllBytes(batch));
        var prodRaw = Path.Combine(_ws.Root, "env", "prod", "raw");
        Directory.CreateDirectory(prodRaw);
        File.Copy(batch, Path.Combine(prodRaw, "adult-2026-11-02.csv.gz"));
        GitRepo.Init(_ws.Root);
        GitRepo.CommitAll(_ws.Root, "workspace");

        var dev = new StageContext(_ws.Load("dev"), _ws.Log, new RunOptions());
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, dev);
        BundlePublisher.Publish(_ws.Load("dev"), _shared);
        var prod = new StageContext(_ws.Load("prod"), _ws.Log, new RunOptions());
        foreach (var stage in PipelineDefinition.UpTo("split")) StageRunner.Run(stage, prod);

        var import = CtbProcess.Run(_ws.Root, ["import", "--from", _shared, "--env", "prod"]);

        Assert.True(import.ExitCode == 0, import.Output);
        Assert.Contains("Promoted", import.StdOut);
        var head = GitRepo.Log(_ws.Root)[0];
        Assert.StartsWith("Promote adult-income v1 (imported from dev v1): AUC ", head);
        var files = GitRepo.FilesIn(_ws.Root);
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.StartsWith("env/prod/models/adult-income/", f));
        // prod's generated state stays out of git, as dev's does.
        var status = GitRepo.Run(_ws.Root, "status", "--porcelain");
        Assert.True(status.Length == 0, "untracked or changed files after the pipeline and the import:\n" + status);
    }
}
