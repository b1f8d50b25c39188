using CtBuild.Stages;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Cli;

/// <summary><c>ctb lake show</c> as a user runs it: a real process on a real lake, output redirected (80 columns).</summary>
public sealed class LakeCommandsTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    CtbResult Ctb(params string[] args) => CtbProcess.Run(_ws.Root, [.. args, "--config", Path.Combine(_ws.Root, "ctbuild.json")]);

    [Fact]
    public void A_table_wider_than_the_terminal_is_shown_a_row_at_a_time()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Header + "\n7,30,Oslo,1.5,yes\n8,31,Lima,2.5,no\n");
        _ws.Run(new IngestStage());

        var result = Ctb("lake", "show", "raw", "--limit", "1");

        Assert.Equal(0, result.ExitCode);
        var lines = result.StdOut.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains(lines, l => l.StartsWith("── row 1"));
        Assert.DoesNotContain(lines, l => l.StartsWith("── row 2"));
        Assert.Contains("city            Oslo", lines);
        Assert.Contains("_source_line    2", lines);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^_ingested_at\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"));
    }

    [Fact]
    public void A_narrow_result_is_a_table_and_json_has_every_row()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Header + "\n7,30,Oslo,1.5,yes\n8,abc,Lima,2.5,no\n9,32,Lima,2.5,no\n");
        _ws.Run(new IngestStage());

        var json = Ctb("lake", "show", "raw", "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(json.StdOut);
        Assert.Equal(2, doc.RootElement.GetProperty("rows").GetArrayLength());

        var history = Ctb("lake", "history", "raw");
        Assert.Equal(0, history.ExitCode);
        Assert.Contains(history.StdOut.Split('\n'), l => l.TrimStart().StartsWith("v0"));
    }

    [Fact]
    public void Read_only_verbs_on_a_fresh_workspace_say_there_is_nothing_yet_and_never_suggest_freeing_disk_space()
    {
        var tables = Ctb("lake", "tables");
        Assert.True(tables.ExitCode == 0, tables.Output);
        Assert.Contains("No lake tables yet", tables.StdOut);
        var json = Ctb("lake", "tables", "--json");
        Assert.Equal("[]", json.StdOut.Trim());
        Assert.Contains("No models registered yet", Ctb("registry", "list").StdOut);
        foreach (var verb in new[] { new[] { "lake", "tables" }, ["lake", "history", "raw"], ["runs", "list"], ["registry", "list"], ["status"] })
            Assert.DoesNotContain("disk space", Ctb(verb).Output);
    }

    [Fact]
    public void A_table_whose_first_commit_was_killed_is_shown_as_having_no_version_yet()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Header + "\n7,30,Oslo,1.5,yes\n8,31,Lima,2.5,no\n");
        _ws.Run(new IngestStage());
        var killed = CtbProcess.Run(_ws.Root, ["features", "--config", Path.Combine(_ws.Root, "ctbuild.json")],
            new Dictionary<string, string> { ["CTB_FAULT_POINT"] = "lake.after-commit-temp:features", ["CTB_FAULT_ACTION"] = "kill" });
        Assert.True(killed.Killed, killed.Output);
        Assert.True(Directory.Exists(Path.Combine(_ws.Load().LakeDir, "features", "_delta_log")));

        var result = Ctb("lake", "tables");

        Assert.True(result.ExitCode == 0, result.Output);
        var features = result.StdOut.Split('\n').Single(l => l.TrimStart().StartsWith("features"));
        Assert.Contains("no version yet", features);
        Assert.DoesNotContain("v-1", features);
        Assert.DoesNotContain("0001-01-01", features);
        using var doc = System.Text.Json.JsonDocument.Parse(Ctb("lake", "tables", "--json").StdOut);
        var row = doc.RootElement.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "features");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, row.GetProperty("latestVersion").ValueKind);
    }
}
