using System.Text.Json;
using CtBuild.Registry;
using CtBuild.Tracking;

namespace CtBuild.Tests.Registry;

public class ModelRegistryTests : IDisposable
{
    private static readonly Dictionary<string, double> Decision = new() { ["aucDelta"] = 0.02, ["ciLow"] = 0.005 };
    private readonly GitWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Promote_commits_only_the_registry_files_with_the_given_message()
    {
        File.WriteAllText(Path.Combine(_ws.Root, "README.md"), "edited, not staged\n");
        File.WriteAllText(Path.Combine(_ws.Root, "staged.txt"), "staged\n");
        _ws.Git("add", "staged.txt");
        var registry = ModelRegistry.Open(_ws.Root);

        var update = registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1: first model", commit: true);

        Assert.Equal(1, update.Version);
        Assert.True(update.Commit!.Committed);
        Assert.Equal(_ws.Git("rev-parse", "HEAD"), update.Commit.CommitId);
        Assert.Equal("Promote income v1: first model", _ws.Git("log", "-1", "--format=%B"));
        var committed = _ws.Git("show", "--name-only", "--format=", "HEAD").Split('\n');
        Assert.All(committed, p => Assert.StartsWith("models/income/", p));
        Assert.Equal(
            ["models/income/aliases.json", "models/income/history.jsonl", "models/income/model.json",
             "models/income/versions/v1.json", "models/income/versions/v1/model-card.json", "models/income/versions/v1/model.zip"],
            committed.Order(StringComparer.Ordinal));
        // The unrelated changes are still there, still uncommitted, the staged one still staged.
        Assert.Equal(["A  staged.txt", "M README.md"], _ws.Git("status", "--porcelain").Split('\n').Select(l => l.Trim()).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(_ws.Root, "models", "income", ".pending.json")));
    }

    [Fact]
    public void Promoted_version_records_everything_and_moves_the_champion()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1", 0.9), Decision, "Promote income v1", commit: true);
        registry.Promote("income", _ws.Draft("model-2", 0.92, "run-2"), Decision, "Promote income v2", commit: true);

        var model = registry.Get("income");
        Assert.Equal("Income over 50k", model.Info.Description);
        Assert.Equal([1, 2], model.Versions.Select(v => v.Version));
        Assert.Equal(2, model.Champion);
        var v2 = registry.ResolveAlias("income", "champion")!;
        Assert.Equal("run-2", v2.SourceRunId);
        Assert.Equal(0.92, v2.Metrics["auc"]);
        Assert.Equal(3, v2.DataVersions["features"]);
        Assert.Equal("LightGbm", v2.Trainer);
        Assert.Equal("31", v2.TrainerParams["numberOfLeaves"]);
        Assert.Equal(["age", "workclass"], v2.InputSignature.Select(c => c.Name));
        var zip = v2.Artifacts.Single(a => a.Name == "model.zip");
        Assert.Equal("versions/v2/model.zip", zip.Path);
        Assert.Equal(7, zip.Size);
        using var reader = new StreamReader(registry.OpenModelFile("income", 2));
        Assert.Equal("model-2", reader.ReadToEnd());
        Assert.Null(registry.ResolveAlias("income", "challenger"));
        Assert.Equal(["income"], registry.List().Select(m => m.Name));
    }

    [Fact]
    public void Promoting_the_same_content_again_makes_no_new_commit()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        var draft = _ws.Draft("model-1");
        registry.Promote("income", draft, Decision, "Promote income v1", commit: true);
        var commits = _ws.CommitCount;

        var again = registry.Promote("income", draft, Decision, "Promote income v1 again", commit: true);

        Assert.False(again.Changed);
        Assert.False(again.Commit!.Committed);
        Assert.Contains("already the champion", again.Commit.Reason);
        Assert.Equal(commits, _ws.CommitCount);
        Assert.Single(registry.Get("income").Versions);
    }

    [Fact]
    public void Committer_makes_no_commit_when_files_match_head()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        var update = registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var commits = _ws.CommitCount;

        var result = registry.Committer.Commit(update.Paths, "nothing new");

        Assert.False(result.Committed);
        Assert.Equal("registry files unchanged versus HEAD", result.Reason);
        Assert.Equal(commits, _ws.CommitCount);
    }

    [Fact]
    public void Outside_a_repository_files_are_written_and_the_reason_says_why_nothing_was_committed()
    {
        using var plain = new GitWorkspace(initGit: false);
        var registry = ModelRegistry.Open(plain.Root);

        var update = registry.Promote("income", plain.Draft("model-1"), Decision, "Promote income v1", commit: true);

        Assert.False(update.Commit!.Committed);
        Assert.Equal($"not a git repository: {plain.Root}", update.Commit.Reason);
        Assert.Equal(1, registry.ResolveAlias("income", "champion")!.Version);
        Assert.True(File.Exists(Path.Combine(plain.Root, "models", "income", "versions", "v1", "model.zip")));
    }

    [Fact]
    public void A_failing_pre_commit_hook_puts_the_registry_files_back_and_says_why()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var aliases = _ws.Read("models/income/aliases.json");
        var history = _ws.Read("models/income/history.jsonl");
        var head = _ws.Git("rev-parse", "HEAD");
        FailingHook();

        var error = Assert.Throws<RegistryCommitException>(() =>
            registry.Promote("income", _ws.Draft("model-2"), Decision, "Promote income v2", commit: true));

        Assert.Contains("hook says no: model too big", error.Message);
        Assert.Contains("restored", error.Message);
        Assert.Equal(head, _ws.Git("rev-parse", "HEAD"));
        Assert.Equal(aliases, _ws.Read("models/income/aliases.json"));
        Assert.Equal(history, _ws.Read("models/income/history.jsonl"));
        Assert.False(File.Exists(Path.Combine(_ws.Root, "models", "income", "versions", "v2.json")));
        Assert.False(Directory.Exists(Path.Combine(_ws.Root, "models", "income", "versions", "v2")));
        Assert.Equal("", _ws.Git("status", "--porcelain", "--untracked-files=all", "--", "models"));
        Assert.Equal(1, registry.Get("income").Champion);
    }

    [Fact]
    public void Rollback_moves_the_champion_back_through_the_history_and_commits()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        for (var i = 1; i <= 3; i++)
            registry.Promote("income", _ws.Draft($"model-{i}"), Decision, $"Promote income v{i}", commit: true);

        var first = registry.Rollback("income", null, "v3 misbehaves in prod");
        Assert.Equal(2, first.Version);
        Assert.True(first.Commit!.Committed);
        Assert.Equal("Roll back income to v2: v3 misbehaves in prod", _ws.Git("log", "-1", "--format=%B"));
        Assert.Equal("", _ws.Git("status", "--porcelain", "--", "models"));

        Assert.Equal(1, registry.Rollback("income", null, "v2 too").Version);
        Assert.Equal(1, registry.Get("income").Champion);
        Assert.Equal(3, registry.Rollback("income", 3, "fixed upstream").Version);
        Assert.Equal(3, registry.Get("income").Champion);
        var last = registry.History("income")[^1];
        Assert.Equal(RegistryEventKind.RolledBack, last.Kind);
        Assert.Equal(1, last.PreviousVersion);
    }

    [Fact]
    public void Rollback_without_an_earlier_champion_says_what_to_do()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var error = Assert.Throws<RegistryException>(() => registry.Rollback("income", null, "why not"));
        Assert.Contains("--to <N>", error.Message);
    }

    [Fact]
    public void A_changed_artifact_is_refused_naming_the_file_and_both_hashes()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var expected = registry.GetVersion("income", 1).Artifacts.Single(a => a.Name == "model.zip").Sha256;
        File.WriteAllText(Path.Combine(_ws.Root, "models", "income", "versions", "v1", "model.zip"), "tampered");

        var error = Assert.Throws<RegistryIntegrityException>(() => registry.OpenModelFile("income", 1));

        Assert.Equal("models/income/versions/v1/model.zip", error.File);
        Assert.Equal(expected, error.ExpectedSha256);
        Assert.Equal(Hashing.Sha256File(Path.Combine(_ws.Root, "models", "income", "versions", "v1", "model.zip")), error.ActualSha256);
        Assert.Contains("git checkout", error.Message);
        Assert.Throws<RegistryIntegrityException>(() => registry.VerifyArtifacts("income", 1));
        File.Delete(Path.Combine(_ws.Root, "models", "income", "versions", "v1", "model-card.json"));
        _ws.Git("checkout", "--", "models/income/versions/v1/model.zip");
        Assert.Equal("missing", Assert.Throws<RegistryIntegrityException>(() => registry.VerifyArtifacts("income", 1)).ActualSha256);
    }

    [Fact]
    public void History_lists_events_in_order_with_actor_reason_and_numbers()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        registry.RecordRejected("income", "run-9", new Dictionary<string, double> { ["aucDelta"] = -0.01 }, "worse than champion", commit: true);
        var v2 = registry.RegisterVersion("income", _ws.Draft("model-2"));
        registry.SetAlias("income", "challenger", v2, "shadow test");
        registry.Promote("income", _ws.Draft("model-3"), Decision, "Promote income v3", commit: false);
        registry.Rollback("income", null, "bad", commit: false);

        var history = registry.History("income");

        Assert.Equal(
            [RegistryEventKind.Registered, RegistryEventKind.Promoted, RegistryEventKind.Rejected, RegistryEventKind.Registered,
             RegistryEventKind.AliasSet, RegistryEventKind.Registered, RegistryEventKind.Promoted, RegistryEventKind.RolledBack],
            history.Select(e => e.Kind));
        Assert.All(history, e => Assert.Equal($"{Environment.UserName}@{Environment.MachineName}", e.Actor));
        Assert.Equal(0.02, history[1].Numbers!["aucDelta"]);
        Assert.Equal("run-9", history[2].Candidate);
        Assert.Equal(-0.01, history[2].Numbers!["aucDelta"]);
        Assert.Equal("shadow test", history[4].Reason);
        Assert.Equal(1, history[^1].Version);
        Assert.True(history.Zip(history.Skip(1)).All(p => p.First.Time <= p.Second.Time));
        Assert.Equal(new Dictionary<string, int> { ["challenger"] = 2, ["champion"] = 1 }, registry.Aliases("income"));
    }

    [Fact]
    public void Open_undoes_a_promotion_that_crashed_before_its_commit()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var aliases = "models/income/aliases.json";
        var v2 = "models/income/versions/v2.json";
        // A process that died after writing its files but before committing them.
        WritePending(commit: true, (aliases, File.ReadAllBytes(Path.Combine(_ws.Root, aliases))), (v2, null));
        File.WriteAllText(Path.Combine(_ws.Root, aliases), "{\"champion\": 2}");
        File.WriteAllText(Path.Combine(_ws.Root, v2), "{}");

        var reopened = ModelRegistry.Open(_ws.Root);

        Assert.Equal(1, reopened.Get("income").Champion);
        Assert.False(File.Exists(Path.Combine(_ws.Root, v2)));
        Assert.Equal("", _ws.Git("status", "--porcelain", "--untracked-files=all", "--", "models"));
    }

    [Fact]
    public void Open_keeps_a_promotion_that_crashed_after_its_commit()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var before = File.ReadAllBytes(Path.Combine(_ws.Root, "models/income/aliases.json"));
        registry.Promote("income", _ws.Draft("model-2"), Decision, "Promote income v2", commit: true);
        // Died after `git commit` but before removing its intent file.
        WritePending(commit: true, ("models/income/aliases.json", before), ("models/income/versions/v2.json", null));

        var reopened = ModelRegistry.Open(_ws.Root);

        Assert.Equal(2, reopened.Get("income").Champion);
        Assert.False(File.Exists(Path.Combine(_ws.Root, "models", "income", ".pending.json")));
    }

    [Fact]
    public void A_change_in_progress_elsewhere_is_not_disturbed()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);
        var pending = Path.Combine(_ws.Root, "models", "income", ".pending.json");
        File.WriteAllBytes(pending, RegistryFiles.Serialize(
            new PendingIntent("x", ProcessOwner.Current, DateTimeOffset.UtcNow, true, [])));

        var error = Assert.Throws<RegistryException>(() =>
            ModelRegistry.Open(_ws.Root).Promote("income", _ws.Draft("model-2"), Decision, "Promote income v2", commit: true));

        Assert.Contains("in progress", error.Message);
        Assert.True(File.Exists(pending));
    }

    [Fact]
    public void Promotions_from_two_threads_get_distinct_versions_and_commits()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        var drafts = new[] { _ws.Draft("model-a"), _ws.Draft("model-b") };
        var commits = _ws.CommitCount;

        var versions = new int?[2];
        Parallel.For(0, 2, i => versions[i] = registry.Promote("income", drafts[i], Decision, $"Promote {i}", commit: true).Version);

        Assert.Equal([1, 2], versions.Order());
        Assert.Equal(commits + 2, _ws.CommitCount);
        Assert.Equal("", _ws.Git("status", "--porcelain", "--untracked-files=all"));
        registry.VerifyArtifacts("income", 1);
        registry.VerifyArtifacts("income", 2);
    }

    /// <summary>
    /// With no identity in the repository. On a machine whose global git config has none either
    /// (or with GIT_CONFIG_GLOBAL=/dev/null) this exercises the user@host fallback.
    /// </summary>
    [Fact]
    public void Promote_commits_without_a_repository_identity()
    {
        _ws.Git("config", "--unset", "user.name");
        _ws.Git("config", "--unset", "user.email");
        var registry = ModelRegistry.Open(_ws.Root);

        var update = registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true);

        Assert.True(update.Commit!.Committed);
        var configured = GitCli.Run(_ws.Root, "config", "user.name");
        Assert.Equal(configured.Ok ? configured.StdOut.Trim() : Environment.UserName, _ws.Git("log", "-1", "--format=%an"));
    }

    [Fact]
    public void Bad_names_are_refused()
    {
        var registry = ModelRegistry.Open(_ws.Root);
        Assert.Throws<RegistryException>(() => registry.Get("../etc"));
        Assert.Throws<RegistryException>(() => registry.Get("missing"));
        var draft = _ws.Draft("m") with { Artifacts = [new DraftArtifact("../escape.zip", Path.Combine(_ws.Scratch, "x"))] };
        Assert.Throws<RegistryException>(() => registry.RegisterVersion("income", draft));
        Assert.False(Directory.Exists(Path.Combine(_ws.Root, "models", "income")));
    }

    [Fact]
    public void A_first_promotion_refused_by_git_leaves_nothing_behind()
    {
        FailingHook();
        var registry = ModelRegistry.Open(_ws.Root);

        Assert.Throws<RegistryCommitException>(() =>
            registry.Promote("income", _ws.Draft("model-1"), Decision, "Promote income v1", commit: true));

        Assert.False(Directory.Exists(Path.Combine(_ws.Root, "models", "income")));
        Assert.Equal("", _ws.Git("status", "--porcelain", "--untracked-files=all"));
        Assert.Empty(registry.List());
    }

    private void FailingHook()
    {
        var hook = Path.Combine(_ws.Root, ".git", "hooks", "pre-commit");
        File.WriteAllText(hook, "#!/bin/sh\necho 'hook says no: model too big' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private void WritePending(bool commit, params (string Path, byte[]? Content)[] files)
    {
        var dead = new ProcessOwner(2147483000, Environment.MachineName, DateTimeOffset.UtcNow);
        var intent = new PendingIntent("crashed", dead, DateTimeOffset.UtcNow, commit,
            files.Select(f => new PriorContent(f.Path, f.Content is null ? null : Convert.ToBase64String(f.Content))).ToList());
        File.WriteAllBytes(Path.Combine(_ws.Root, "models", "income", ".pending.json"), RegistryFiles.Serialize(intent));
    }
}
