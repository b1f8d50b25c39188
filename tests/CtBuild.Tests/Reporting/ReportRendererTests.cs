using System.Text.RegularExpressions;
using CtBuild.Reporting;

namespace CtBuild.Tests.Reporting;

public sealed class ReportRendererTests : IDisposable
{
    static readonly string[] Sections = ["id=\"decision\"", "id=\"data\"", "id=\"tuning\"", "id=\"models\"", "id=\"bootstrap\"", "id=\"model-card\"", "id=\"run\""];
    readonly string temp = Directory.CreateTempSubdirectory("ctb-reporting-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void Full_report_has_every_section_in_order_and_the_decision_first()
    {
        var html = new ReportRenderer().RenderReport(ReportSamples.Full());

        var positions = Sections.Select(s => html.IndexOf(s, StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p > 0));
        Assert.Equal(positions.Order(), positions);
        Assert.Contains("class=\"decision promoted\"", html);
        Assert.Contains(">PROMOTED<", html);
        Assert.Contains("0.9281", html); // candidate AUC, 4 decimals
        Assert.Contains("0.0041", html); // DeLong p
        Assert.Contains("+0.0061", html); // mean ΔAUC
        Assert.Contains("97.9%", html);
        Assert.Contains("1m 20s", html); // Tune stage, 80.6 s
        Assert.Contains("capital_gain", html);
        foreach (var chart in new[] { "tuning", "params", "roc", "pr", "calibration", "delta-auc", "importance", "label-balance" })
            Assert.Contains($"data-chart=\"{chart}\"", html);
    }

    [Fact]
    public void A_delivery_with_a_column_empty_in_every_row_is_flagged_in_the_data_section()
    {
        var sample = ReportSamples.Full();
        var report = sample with { Data = sample.Data with { EmptyColumns = [new EmptyColumns("day-7.csv", ["age", "score"])] } };

        var html = new ReportRenderer().RenderReport(report);
        var data = html[html.IndexOf("id=\"data\"", StringComparison.Ordinal)..html.IndexOf("id=\"tuning\"", StringComparison.Ordinal)];

        Assert.Contains("Columns empty in every row of a delivery", data);
        Assert.Contains("day-7.csv</span>: age, score", data);
        Assert.DoesNotContain("Columns empty in every row", new ReportRenderer().RenderReport(sample));
    }

    [Fact]
    public void The_decision_shows_the_one_sided_figures_each_criterion_and_which_one_decided()
    {
        var html = new ReportRenderer().RenderReport(ReportSamples.Full());
        var decision = html[html.IndexOf("id=\"decision\"", StringComparison.Ordinal)..html.IndexOf("id=\"data\"", StringComparison.Ordinal)];

        Assert.Contains("ΔAUC (full test set)</div><div class=\"value\">+0.0061</div><div class=\"sub\">bootstrap mean", decision);
        Assert.Contains("One-sided 95.0% lower bound</div><div class=\"value\">+0.0012</div>", decision);
        Assert.Contains("p = 0.0210 · win 97.9% · needs &gt; 0", decision);
        Assert.Contains("DeLong one-sided p</div><div class=\"value\">0.0021</div><div class=\"sub\">two-sided p 0.0041", decision);
        Assert.Contains("Detectable at 80% power</div><div class=\"value\">+0.0058</div><div class=\"sub\">9,635 test rows, 2,309 positive", decision);
        Assert.Contains("<td>guard</td><td class=\"pass\">pass</td><td>guard (alpha spending): DeLong one-sided p = 0.0021 ≤ 0.0025", decision);
        Assert.Contains("<td>segment sex = Female</td><td class=\"\">reported</td>", decision);
        Assert.Contains("Decided by: all criteria.", decision);
    }

    [Fact]
    public void First_run_report_renders_every_section_without_champion_drift_or_bootstrap()
    {
        var html = new ReportRenderer().RenderReport(ReportSamples.FirstRun());

        Assert.All(Sections, s => Assert.Contains(s, html));
        Assert.Contains("No previous run to compare with", html);
        Assert.Contains("no bootstrap comparison", html);
        Assert.Contains("First model", html);
        Assert.DoesNotContain("data-chart=\"delta-auc\"", html);
        Assert.DoesNotContain("data-chart=\"importance\"", html);
        Assert.Contains("data-chart=\"roc\"", html);
    }

    [Theory]
    [InlineData(DecisionOutcome.KeptChampion, "decision kept-champion", ">KEPT CHAMPION<")]
    [InlineData(DecisionOutcome.Rejected, "decision rejected", ">REJECTED<")]
    public void Outcome_sets_the_banner(DecisionOutcome outcome, string cssClass, string label)
    {
        var sample = ReportSamples.Full();
        var html = new ReportRenderer().RenderReport(sample with { Decision = sample.Decision with { Outcome = outcome } });

        Assert.Contains(cssClass, html);
        Assert.Contains(label, html);
    }

    [Fact]
    public void Page_loads_nothing_from_the_network()
    {
        var html = new ReportRenderer().RenderReport(ReportSamples.Full());

        var remote = new Regex("""<(script|link|img|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=\s*["']?\s*(https?:)?//""", RegexOptions.IgnoreCase);
        Assert.Empty(remote.Matches(html));
        Assert.DoesNotMatch(new Regex("@import|url\\(\\s*[\"']?(https?:)?//", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("<script src", html);
        // The three libraries are inlined exactly once.
        Assert.Single(Regex.Matches(html, "vegaEmbed=t\\(|\\.vegaEmbed=").Cast<Match>().Take(2));
    }

    [Fact]
    public void Text_from_the_model_is_escaped_in_html_and_in_chart_json()
    {
        var sample = ReportSamples.Full();
        var trials = sample.Tuning.Trials.Select(t => t.Number == 0 ? t with { Trainer = "</script><b>x</b>" } : t).ToList();
        var html = new ReportRenderer().RenderReport(sample with { Tuning = sample.Tuning with { Trials = trials } });

        Assert.DoesNotContain("<script>alert(1)</script>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;", html); // in the trials table
        Assert.Contains("\\u003C/script\\u003E\\u003Cb\\u003Ex", html); // in the tuning chart's data
        // Only the page's own script blocks close: the specs cannot break out of their JSON block.
        Assert.Equal(5, Regex.Matches(html, "<script\\b").Count);
        Assert.Equal(5, Regex.Matches(html, "</script>").Count);
    }

    [Fact]
    public void Misspelt_variable_fails_naming_template_line_and_variable()
    {
        File.WriteAllText(Path.Combine(temp, "summary.sbn-md"), "line one\n{{ decision.win_ratoi }}\n");

        var ex = Assert.Throws<ReportTemplateException>(() => new ReportRenderer(temp).RenderMarkdownSummary(ReportSamples.Full()));

        Assert.Contains("summary.sbn-md", ex.Message);
        Assert.Contains("(2,", ex.Message);
        Assert.Contains("win_ratoi", ex.Message);
    }

    [Fact]
    public void Misspelt_top_level_variable_fails_too()
    {
        File.WriteAllText(Path.Combine(temp, "summary.sbn-md"), "{{ decsion.reason }}");

        var ex = Assert.Throws<ReportTemplateException>(() => new ReportRenderer(temp).RenderMarkdownSummary(ReportSamples.Full()));

        Assert.Contains("decsion", ex.Message);
    }

    [Fact]
    public void User_template_with_the_same_name_wins_and_others_stay_embedded()
    {
        File.WriteAllText(Path.Combine(temp, "summary.sbn-md"), "custom {{ decision.outcome_label }} {{ decision.win_ratio | percent }}");
        var renderer = new ReportRenderer(temp);

        Assert.Equal("custom PROMOTED 97.9%", renderer.RenderMarkdownSummary(ReportSamples.Full()));
        Assert.Contains("id=\"decision\"", renderer.RenderReport(ReportSamples.Full()));
    }

    [Fact]
    public void Missing_template_folder_is_a_configuration_error()
    {
        var missing = Path.Combine(temp, "no-such-folder");

        var ex = Assert.Throws<ConfigException>(() => new ReportRenderer(missing));

        Assert.Contains(missing, ex.Message);
    }

    [Fact]
    public void Error_in_a_user_partial_names_the_partial()
    {
        File.WriteAllText(Path.Combine(temp, "_head.sbn-html"), "<title>{{ titel }}</title>");

        var ex = Assert.Throws<ReportTemplateException>(() => new ReportRenderer(temp).RenderReport(ReportSamples.Full()));

        Assert.Contains("_head.sbn-html(1,", ex.Message);
        Assert.Contains("titel", ex.Message);
    }

    [Fact]
    public void User_partial_overrides_the_embedded_include()
    {
        File.WriteAllText(Path.Combine(temp, "_head.sbn-html"), "<title>{{ title }}</title><style>/* house style */</style>");

        var html = new ReportRenderer(temp).RenderReport(ReportSamples.Full());

        Assert.Contains("/* house style */", html);
        Assert.DoesNotContain("--chart-best", html.Split("<body>")[0]);
    }

    [Fact]
    public void Markdown_summary_has_decision_key_numbers_and_stage_table()
    {
        var md = new ReportRenderer().RenderMarkdownSummary(ReportSamples.Full());

        Assert.StartsWith("## ✅ PROMOTED: adult-income v4", md);
        Assert.Contains("| Candidate AUC | 0.9281 (floor 0.8500) |", md);
        Assert.Matches(@"\| ΔAUC \(full test set\) \| \+0\.0061 \(bootstrap mean \+0\.\d{4}\) \|", md);
        Assert.Contains("| One-sided 95.0% lower bound | +0.0012 (the rule needs > 0) |", md);
        Assert.Contains("| One-sided p | 0.0210 bootstrap = 1 − win ratio 97.9% (needs ≤ 0.0500) · DeLong 0.0021 |", md);
        Assert.Contains("| Two-sided (secondary) | 95% interval [", md);
        Assert.Contains("DeLong z = 2.87, p = 0.0041 |", md);
        Assert.Contains("| Detectable at 80% power | +0.0058 on 9,635 test rows (2,309 positive) |", md);
        Assert.Contains("| Decided by | all criteria |", md);
        Assert.Contains("| guard | pass | guard (alpha spending): DeLong one-sided p = 0.0021 ≤ 0.0025 per decision (0.05 over a tenure of 20 retrains) |", md);
        Assert.Contains("| segment sex = Female | reported |", md);
        Assert.Contains("| Split | Skipped | up to date | 42 ms |", md);
        Assert.Contains("| Tune | Ran |  | 1m 20s |", md);
    }

    [Fact]
    public void Markdown_summary_of_a_first_run_says_there_was_no_champion()
    {
        var md = new ReportRenderer().RenderMarkdownSummary(ReportSamples.FirstRun());

        Assert.Contains("| Champion | none (first model) |", md);
        Assert.DoesNotContain("One-sided", md);
    }

    [Fact]
    public void Index_lists_runs_newest_first_and_tracks_the_champion()
    {
        var first = ReportSamples.FirstRun("run-a");
        var second = ReportSamples.Full("run-c") with { StartedAt = first.StartedAt.AddDays(2) };
        var kept = ReportSamples.Full("run-b") with { StartedAt = first.StartedAt.AddDays(1) };
        kept = kept with { Decision = kept.Decision with { Outcome = DecisionOutcome.KeptChampion } };

        var index = IndexPage.FromRuns([IndexEntry.From(first, "run-a/report.html"), IndexEntry.From(second, "run-c/report.html"), IndexEntry.From(kept, "run-b/report.html")]);
        var html = new ReportRenderer().RenderIndex(index);

        Assert.Equal(["run-c", "run-b", "run-a"], index.Runs.Select(r => r.RunId));
        Assert.Equal([0.9012, 0.9220, 0.9281], index.ChampionHistory.Select(p => p.Auc));
        var links = Regex.Matches(html, "href=\"(run-[abc])/report.html\"").Select(m => m.Groups[1].Value);
        Assert.Equal(["run-c", "run-b", "run-a"], links);
        Assert.Contains("data-chart=\"champion-history\"", html);
    }
}
