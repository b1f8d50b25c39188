using CtBuild.GitHub;

namespace CtBuild.Tests.GitHub;

public sealed class GitHubActionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ctb-gha-").FullName;
    private readonly StringWriter _stdout = new();
    private readonly Dictionary<string, string> _env = new();

    public GitHubActionsTests()
    {
        _env["GITHUB_ACTIONS"] = "true";
        _env["GITHUB_OUTPUT"] = Path.Combine(_dir, "output");
        _env["GITHUB_ENV"] = Path.Combine(_dir, "env");
        _env["GITHUB_STEP_SUMMARY"] = Path.Combine(_dir, "summary.md");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private GitHubActions Actions() => new(name => _env.GetValueOrDefault(name), _stdout);

    [Fact]
    public void Outside_github_actions_nothing_is_written()
    {
        _env.Remove("GITHUB_ACTIONS");
        var actions = Actions();

        actions.BeginGroup("Ingest");
        actions.Error("boom", "a.cs", 1);
        actions.SetOutput("promoted", "true");
        actions.SetEnv("X", "1");
        actions.AppendStepSummary("# Report");
        actions.EndGroup();

        Assert.False(actions.IsActive);
        Assert.Equal("", _stdout.ToString());
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Groups_are_workflow_commands_and_close_when_the_work_throws()
    {
        var actions = Actions();

        Assert.Throws<InvalidOperationException>(() =>
            actions.InGroup("Tune: 50% of trials", () => throw new InvalidOperationException()));
        Assert.Equal(7, actions.InGroup("Split", () => 7));

        Assert.Equal(
            "::group::Tune: 50%25 of trials\n::endgroup::\n::group::Split\n::endgroup::\n",
            _stdout.ToString());
    }

    [Fact]
    public void Annotation_properties_escape_colon_and_comma_and_the_message_escapes_percent_and_line_breaks()
    {
        Actions().Error("AUC fell: 0.91 -> 0.88, 3% worse\r\nsee report", "features/a,b:c.sql", 12, 5, "Evaluate: regression");

        Assert.Equal(
            "::error file=features/a%2Cb%3Ac.sql,line=12,col=5,title=Evaluate%3A regression" +
            "::AUC fell: 0.91 -> 0.88, 3%25 worse%0D%0Asee report\n",
            _stdout.ToString());
    }

    [Fact]
    public void Warning_and_notice_without_properties_carry_only_the_message()
    {
        var actions = Actions();
        actions.Warning("stale champion");
        actions.Notice("promoted v3", line: 4);

        Assert.Equal("::warning::stale champion\n::notice line=4::promoted v3\n", _stdout.ToString());
    }

    [Fact]
    public void Single_line_outputs_append_name_equals_value()
    {
        var actions = Actions();
        actions.SetOutput("promoted", "true");
        actions.SetOutput("model", "income=v2");

        Assert.Equal("promoted=true\nmodel=income=v2\n", File.ReadAllText(_env["GITHUB_OUTPUT"]));
    }

    [Fact]
    public void Multi_line_values_use_a_random_delimiter_and_read_back_whole()
    {
        var value = "line one\nEOF\nline three";
        var actions = Actions();
        actions.SetOutput("reasons", value);
        actions.SetOutput("after", "x");
        actions.SetEnv("NOTES", "a\nb");

        var outputs = RunnerFile.Parse(File.ReadAllText(_env["GITHUB_OUTPUT"]));
        Assert.Equal(value, outputs["reasons"]);
        Assert.Equal("x", outputs["after"]);
        Assert.Equal("a\nb", RunnerFile.Parse(File.ReadAllText(_env["GITHUB_ENV"]))["NOTES"]);
        Assert.StartsWith("reasons<<ghadelimiter_", File.ReadAllText(_env["GITHUB_OUTPUT"]));
    }

    [Fact]
    public void Two_multi_line_entries_get_different_delimiters()
    {
        var first = GitHubActions.KeyValueEntry("a", "1\n2");
        var second = GitHubActions.KeyValueEntry("a", "1\n2");
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Step_summary_appends_markdown_on_its_own_lines()
    {
        var actions = Actions();
        actions.AppendStepSummary("# CtBuild");
        actions.AppendStepSummary("| stage | state |\n|---|---|\n");

        Assert.Equal("# CtBuild\n| stage | state |\n|---|---|\n", File.ReadAllText(_env["GITHUB_STEP_SUMMARY"]));
    }

    [Fact]
    public void Markdown_past_the_summary_limit_is_left_out_with_a_warning_and_earlier_text_kept()
    {
        var actions = Actions();
        var nearlyFull = new string('x', (int)GitHubActions.StepSummaryLimitBytes - 10);

        Assert.True(actions.AppendStepSummary(nearlyFull));
        Assert.False(actions.AppendStepSummary("# Too much for what is left"));
        Assert.True(actions.AppendStepSummary("fits"));

        Assert.Equal(nearlyFull + "\nfits\n", File.ReadAllText(_env["GITHUB_STEP_SUMMARY"]));
        Assert.StartsWith("::warning title=Job summary too large::Job summary section of 28 bytes left out", _stdout.ToString());
    }

    [Fact]
    public void A_missing_runner_file_variable_says_which_one()
    {
        _env.Remove("GITHUB_STEP_SUMMARY");

        var error = Assert.Throws<CtBuildException>(() => Actions().AppendStepSummary("x"));
        Assert.Contains("GITHUB_STEP_SUMMARY is not set", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a=b")]
    [InlineData("a\nb")]
    public void A_name_the_runner_cannot_parse_is_refused(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => Actions().SetOutput(name, "v"));
        Assert.Contains("GITHUB_OUTPUT", error.Message);
        Assert.False(File.Exists(_env["GITHUB_OUTPUT"]));
    }

    [Fact]
    public void Promotion_outputs_are_the_four_the_workflow_reads()
    {
        new PromotionOutputs(true, "income", 3, 0.912345).WriteTo(Actions());
        new PromotionOutputs(false, "income", null, null).WriteTo(Actions());

        Assert.Equal(
            "promoted=true\nmodel=income\nversion=3\nauc=0.9123\n" +
            "promoted=false\nmodel=income\nversion=\nauc=\n",
            File.ReadAllText(_env["GITHUB_OUTPUT"]));
    }
}

/// <summary>Reads GITHUB_OUTPUT / GITHUB_ENV the way the runner does, to check what we write round-trips.</summary>
internal static class RunnerFile
{
    public static Dictionary<string, string> Parse(string text)
    {
        var result = new Dictionary<string, string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) continue;
            var heredoc = line.IndexOf("<<", StringComparison.Ordinal);
            var equals = line.IndexOf('=');
            if (heredoc > 0 && (equals < 0 || heredoc < equals))
            {
                var name = line[..heredoc];
                var delimiter = line[(heredoc + 2)..];
                var end = Array.IndexOf(lines, delimiter, i + 1);
                Assert.True(end > i, $"no closing delimiter for {name}");
                result[name] = string.Join('\n', lines[(i + 1)..end]);
                i = end;
            }
            else
            {
                result[line[..equals]] = line[(equals + 1)..];
            }
        }
        return result;
    }
}
