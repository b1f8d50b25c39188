using System.Text.Json;
using CtBuild.Configuration;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Cli;

/// <summary>What scripts rely on from every verb, on a real <c>ctb</c> process: JSON-only stdout, exit codes, usage hints.</summary>
public sealed class CliContractTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    static readonly Dictionary<string, string> InGitHubActions = new() { ["GITHUB_ACTIONS"] = "true" };

    [Fact]
    public void With_json_stdout_is_json_only_in_GitHub_Actions_even_for_an_error()
    {
        _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(50));
        var ok = CtbProcess.Run(_ws.Root, ["ingest", "--json"], InGitHubActions);
        Assert.True(ok.ExitCode == 0, ok.Output);
        using (JsonDocument.Parse(ok.StdOut)) { } // the whole of stdout is one JSON document
        Assert.Contains("::group::ctb ingest", ok.StdErr); // the log group still reaches the runner

        var failed = CtbProcess.Run(_ws.Root, ["status", "--json", "--config", "nowhere.json"], InGitHubActions);
        Assert.Equal(ExitCodes.BadUsage, failed.ExitCode);
        Assert.Equal("", failed.StdOut.Trim());
        Assert.Contains("::error", failed.StdErr);
    }

    [Fact]
    public void A_mistyped_verb_keeps_spectres_did_you_mean_hint_and_exits_2()
    {
        var r = CtbProcess.Run(_ws.Root, ["ingets"]);
        Assert.Equal(ExitCodes.BadUsage, r.ExitCode);
        Assert.Contains("Did you mean", r.StdErr);
        Assert.Contains("ingest", r.StdErr);
    }

    [Fact]
    public void No_commit_is_an_option_of_the_verbs_that_commit_only()
    {
        Assert.Contains("--no-commit", CtbProcess.Run(_ws.Root, ["promote", "--help"]).StdOut);
        Assert.Contains("--no-commit", CtbProcess.Run(_ws.Root, ["run", "--help"]).StdOut);
        Assert.DoesNotContain("--no-commit", CtbProcess.Run(_ws.Root, ["ingest", "--help"]).StdOut);
        Assert.Equal(ExitCodes.BadUsage, CtbProcess.Run(_ws.Root, ["tune", "--no-commit"]).ExitCode);
    }

    [Fact]
    public void Version_names_the_tool_version_and_the_engine_commit()
    {
        var r = CtbProcess.Run(_ws.Root, ["--version"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+\S* \(engine commit ([0-9a-f]{7,40}|unknown[^)]*)\)", r.StdOut.Trim());
    }

    [Fact]
    public void The_schema_knows_every_key_of_the_bundled_config_and_the_loader_accepts_it_as_dollar_schema()
    {
        using var schema = JsonDocument.Parse(ConfigSchema.Generate());
        var properties = schema.RootElement.GetProperty("properties");
        Assert.False(schema.RootElement.GetProperty("additionalProperties").GetBoolean());
        var sample = File.ReadAllText(Path.Combine(TempWorkspace.RepoRoot, "ctbuild.json"));
        using var config = JsonDocument.Parse(sample, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        foreach (var key in config.RootElement.EnumerateObject())
            Assert.True(properties.TryGetProperty(key.Name, out _), $"schema lacks '{key.Name}'");
        Assert.True(properties.GetProperty("ingest").GetProperty("properties").TryGetProperty("maxBadFraction", out _));
        Assert.Equal("./ctbuild.schema.json", ConfigLoader.Parse(sample, "ctbuild.json").Schema); // the sample names it
        // `ctb schema` prints the document the package ships (the repository's ctbuild.schema.json).
        Assert.Equal(ConfigSchema.Generate(), CtbProcess.Run(_ws.Root, ["schema"]).StdOut);
        Assert.True(ConfigSchema.Generate() == File.ReadAllText(Path.Combine(TempWorkspace.RepoRoot, "ctbuild.schema.json")),
            "ctbuild.schema.json is out of date with the config types: run `dotnet src/CtBuild.Cli/bin/Release/net10.0/ctb.dll schema > ctbuild.schema.json`.");
    }
}
