using CtBuild.Registry;
using CtBuild.Tracking;

namespace CtBuild.Tests.Registry;

/// <summary>A throwaway git repository with one commit and a local identity, deleted on dispose.</summary>
internal sealed class GitWorkspace : IDisposable
{
    public GitWorkspace(bool initGit = true)
    {
        Root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"ctb-registry-{Guid.NewGuid():N}")).FullName;
        Scratch = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"ctb-scratch-{Guid.NewGuid():N}")).FullName;
        if (!initGit) return;
        Git("init", "--quiet", "--initial-branch=main");
        Git("config", "user.name", "Test User");
        Git("config", "user.email", "test@example.com");
        Git("config", "core.hooksPath", ".git/hooks");
        File.WriteAllText(Path.Combine(Root, "README.md"), "sample\n");
        Git("add", "README.md");
        Git("commit", "--quiet", "-m", "initial");
    }

    public string Root { get; }

    /// <summary>Outside the repository: where test drafts' source files live.</summary>
    public string Scratch { get; }

    public string Git(params string[] args)
    {
        var result = GitCli.Run(Root, args);
        if (!result.Ok) throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {result.StdErr}");
        return result.StdOut.Trim();
    }

    public int CommitCount => int.Parse(Git("rev-list", "--count", "HEAD"));

    public string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    /// <summary>A draft whose model.zip holds <paramref name="content"/>.</summary>
    public ModelVersionDraft Draft(string content, double auc = 0.9, string runId = "run-1")
    {
        var model = Path.Combine(Scratch, $"{Guid.NewGuid():N}.zip");
        File.WriteAllText(model, content);
        var card = Path.Combine(Scratch, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(card, $"{{\"auc\": {auc}}}");
        return new ModelVersionDraft(
            runId, "LightGbm",
            new Dictionary<string, string> { ["numberOfLeaves"] = "31", ["learningRate"] = "0.1" },
            new Dictionary<string, double> { ["auc"] = auc },
            new Dictionary<string, long> { ["features"] = 3, ["splits"] = 2 },
            [new FeatureColumn("age", "Single"), new FeatureColumn("workclass", "String")],
            [new DraftArtifact("model.zip", model), new DraftArtifact("model-card.json", card)],
            "Income over 50k");
    }

    public void Dispose()
    {
        foreach (var folder in new[] { Root, Scratch })
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
