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
}
