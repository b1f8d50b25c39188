using CtBuild.Configuration;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Configuration;

public sealed class ConfigLoaderTests
{
    static PipelineConfig Parse(string json) => ConfigLoader.Parse(json, "ctbuild.json");

    [Fact]
    public void The_bundled_config_loads()
    {
        var config = ConfigLoader.Load(Path.Combine(TempWorkspace.RepoRoot, "ctbuild.json"));
        Assert.Equal("adult-income", config.Name);
        Assert.Equal(">50K", config.Ingest.Label.Positive);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, config.Tune.Space.ValueKind);
    }

    [Fact]
    public void Comments_and_trailing_commas_are_allowed()
    {
        var config = Parse(SmallConfig.Json().Replace("\"minAuc\": 0.5 }", "\"minAuc\": 0.5, /* floor */ }"));
        Assert.Equal(0.5, config.Evaluate.MinAuc);
    }

    [Fact]
    public void An_unknown_key_names_the_key_and_its_line()
    {
        var json = SmallConfig.Json().Replace("\"maxEvals\": 3,", "\"maxEvalz\": 3,");
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        var line = json.Split('\n').ToList().FindIndex(l => l.Contains("maxEvalz")) + 1;
        Assert.Contains($"line {line}", ex.Message);
        Assert.Contains("tune.maxEvalz", ex.Message);
        Assert.Contains("unknown key 'maxEvalz'", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void An_unknown_key_points_at_the_key_itself_names_its_path_once_and_suggests_the_near_key()
    {
        var json = File.ReadAllText(Path.Combine(TempWorkspace.RepoRoot, "ctbuild.json")).Replace("\"maxEvals\": 60", "\"maxEvalz\": 60");
        var lines = json.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("\"maxEvalz\"")) + 1;
        var column = lines[line - 1].IndexOf("\"maxEvalz\"", StringComparison.Ordinal) + 1;

        var ex = Assert.Throws<ConfigException>(() => Parse(json));

        Assert.Equal($"ctbuild.json line {line}, column {column} (key tune.maxEvalz): unknown key 'maxEvalz'. Did you mean 'maxEvals'?", ex.Message);
    }

    [Fact]
    public void An_unknown_key_far_from_any_lists_the_keys_allowed_there()
    {
        var json = SmallConfig.Json().Replace("\"minAuc\": 0.5 }", "\"minAuc\": 0.5, \"gate\": \"strict\" }");
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Contains("(key evaluate.gate): unknown key 'gate'. The keys allowed in evaluate are: bootstrapRatio, resamples, seed, minAuc, threshold, minClassCount, guard, calibration, segments, minSegmentRows, segmentMargin.", ex.Message);
    }

    [Fact]
    public void A_wrong_type_points_at_its_key()
    {
        var json = SmallConfig.Json().Replace("\"maxEvals\": 3,", "\"maxEvals\": \"three\",");
        var lines = json.Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("\"three\"")) + 1;
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Contains($"line {line}, column {lines[line - 1].IndexOf("\"maxEvals\"", StringComparison.Ordinal) + 1} (key tune.maxEvals): wrong type", ex.Message);
    }

    [Fact]
    public void A_wrong_type_names_the_key_line_and_expected_type()
    {
        var json = SmallConfig.Json().Replace("\"maxEvals\": 3,", "\"maxEvals\": \"three\",");
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        var line = json.Split('\n').ToList().FindIndex(l => l.Contains("\"three\"")) + 1;
        Assert.Contains($"line {line}", ex.Message);
        Assert.Contains("tune.maxEvals", ex.Message);
        Assert.Contains("expected a whole number", ex.Message);
    }

    [Fact]
    public void A_missing_required_section_is_named()
    {
        var ex = Assert.Throws<ConfigException>(() => Parse("{ \"name\": \"m\" }"));
        Assert.Contains("required", ex.Message);
        Assert.Contains("ingest", ex.Message);
    }

    [Fact]
    public void Values_that_make_no_sense_are_refused_with_their_path_and_line()
    {
        var json = SmallConfig.Json().Replace("\"split\": { \"key\": \"id\" }", "\"split\": { \"key\": \"id\", \"train\": 0.9, \"valid\": 0.2, \"test\": 0.1 }")
            .Replace("\"positive\": \"yes\"", "\"positive\": \"oui\"");
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Contains("(key split): ratios must add up to 1 (they add up to 1.2)", ex.Message);
        Assert.Contains("(key ingest.label.positive): positive value 'oui' is not one of the label values", ex.Message);
        var line = json.Split('\n').ToList().FindIndex(l => l.Contains("\"oui\"")) + 1;
        Assert.Contains($"line {line}", ex.Message);
    }

    [Fact]
    public void A_bad_fidelity_is_refused_with_its_file_line_and_key()
    {
        var json = SmallConfig.Json(tune: ",\n    \"fidelity\": \"1/3, 1/9, 1\"");
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        var line = json.Split('\n').ToList().FindIndex(l => l.Contains("\"fidelity\"")) + 1;
        Assert.Contains($"ctbuild.json line {line}", ex.Message);
        Assert.Contains("(key tune.fidelity): '1/3, 1/9, 1' is not \"auto\", \"on\", \"off\" or a list of rungs like \"1/27, 1/9, 1/3, 1\": the rungs must grow strictly", ex.Message);
        Assert.Equal("auto", Parse(SmallConfig.Json()).Tune.Fidelity);
    }

    [Fact]
    public void An_unknown_environment_is_refused_naming_the_known_ones()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json());
        var ex = Assert.Throws<ConfigException>(() => ws.Load("staging"));
        Assert.Contains("Unknown environment 'staging'", ex.Message);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("0s", 0)]
    [InlineData("7d", 604800)]
    [InlineData("1d12h", 129600)]
    public void Durations_parse(string text, double seconds) => Assert.Equal(seconds, Durations.Parse(text).TotalSeconds);

    [Fact]
    public void A_bad_duration_is_refused() => Assert.Throws<ConfigException>(() => Durations.Parse("ten minutes"));

    [Theory]
    [InlineData("128MB", 134217728)]
    [InlineData("64MiB", 67108864)]
    [InlineData("1GB", 1073741824)]
    [InlineData("512kb", 524288)]
    [InlineData("1000", 1000)]
    public void Byte_sizes_parse(string text, long bytes) => Assert.Equal(bytes, ByteSizes.Parse(text));

    [Fact]
    public void The_lake_section_is_checked_naming_its_keys()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json().TrimEnd().TrimEnd('}') +
            ", \"lake\": { \"checkpointInterval\": -1, \"targetFileSize\": \"big\", \"retain\": \"a week\" } }");
        var ex = Assert.Throws<ConfigException>(() => ws.Load());
        Assert.Contains("lake.checkpointInterval", ex.Message);
        Assert.Contains("lake.targetFileSize", ex.Message);
        Assert.Contains("lake.retain", ex.Message);
    }

    [Fact]
    public void The_evaluate_section_takes_its_defaults_from_the_gate_options_alone()
    {
        var config = Parse(SmallConfig.Json().Replace("\"evaluate\": { \"resamples\": 200, \"minAuc\": 0.5 }", "\"evaluate\": {}"));
        var defaults = new CtBuild.Evaluation.GateOptions();

        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(defaults), System.Text.Json.JsonSerializer.Serialize(config.Evaluate));
        Assert.Equal((0.95, 1000, 7, 0.75, 10), (defaults.BootstrapRatio, defaults.Resamples, defaults.Seed, defaults.MinAuc, defaults.MinClassCount));
        Assert.Equal(CtBuild.Evaluation.RetrainGuardKind.AlphaSpending, defaults.Guard.Kind);
        Assert.Equal(0.0025, defaults.Guard.AlphaPerDecision, 15);
    }

    [Fact]
    public void Gate_options_out_of_range_or_unknown_are_refused_with_their_key_and_line()
    {
        var json = SmallConfig.Json().Replace("\"evaluate\": { \"resamples\": 200, \"minAuc\": 0.5 }",
            "\"evaluate\": { \"resamples\": 50,\n \"guard\": { \"kind\": \"margin\", \"margin\": 2 } }");
        var ex = Assert.Throws<ConfigException>(() => Parse(json));
        Assert.Contains("(key evaluate.resamples): is 50; use at least 100 resamples, e.g. 1000.", ex.Message);
        var line = json.Split('\n').ToList().FindIndex(l => l.Contains("\"margin\": 2")) + 1;
        Assert.Contains($"line {line}", ex.Message);
        Assert.Contains("(key evaluate.guard.margin): is 2; it must be in [0, 1), e.g. 0.002.", ex.Message);

        var unknown = Assert.Throws<ConfigException>(() => Parse(SmallConfig.Json().Replace("\"minAuc\": 0.5 }", "\"minAuc\": 0.5, \"guard\": { \"kind\": \"sometimes\" } }")));
        Assert.True(unknown.Message.Contains("(key evaluate.guard.kind): wrong type: expected one of none, margin, power, alphaSpending."), unknown.Message);
    }
}
