using Scriban;
using Scriban.Runtime;
using Scriban.Syntax;

namespace CtBuild.Reporting;

/// <summary>
/// Renders reports with Scriban templates: report.sbn-html, index.sbn-html and summary.sbn-md (plus the
/// partials they include). Templates are embedded in the engine; a file of the same name in
/// <c>templateFolder</c> replaces the embedded one. Variables are strict: a misspelt name fails the
/// render with the template, line and name instead of printing nothing.
/// </summary>
public sealed class ReportRenderer
{
    readonly ReportTemplates templates;

    /// <param name="templateFolder">Optional folder of user templates that override the embedded ones by file name.</param>
    public ReportRenderer(string? templateFolder = null)
    {
        if (templateFolder is not null && !Directory.Exists(templateFolder))
            throw new ConfigException($"Report template folder '{templateFolder}' does not exist. Create it or leave the template folder unset.");
        templates = new ReportTemplates(templateFolder);
    }

    /// <summary>The self-contained HTML report of one run.</summary>
    public string RenderReport(PipelineReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var model = NewModel();
        model.Import(report, renamer: Renamer);
        AddCharts(model, ReportCharts.ForReport(report));
        model["title"] = $"{report.Decision.OutcomeLabel} · {report.Decision.ModelName} {ReportFormat.Version(report.Decision.Version)} · run {report.RunId}";
        return Render("report.sbn-html", model);
    }

    /// <summary>The HTML index of all runs.</summary>
    public string RenderIndex(IndexPage index)
    {
        ArgumentNullException.ThrowIfNull(index);
        var model = NewModel();
        model.Import(index, renamer: Renamer);
        AddCharts(model, ReportCharts.ForIndex(index));
        model["title"] = "CtBuild runs";
        return Render("index.sbn-html", model);
    }

    /// <summary>A Markdown summary (decision, key numbers, stage table) for GitHub's job summary.</summary>
    public string RenderMarkdownSummary(PipelineReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var model = NewModel();
        model.Import(report, renamer: Renamer);
        return Render("summary.sbn-md", model);
    }

    static readonly MemberRenamerDelegate Renamer = StandardMemberRenamer.Default;

    static ScriptObject NewModel()
    {
        var model = new ScriptObject();
        // The standard renamer makes PValue "pvalue"; templates read better with p_value.
        model.Import(typeof(ReportFormat), renamer: m => m.Name == nameof(ReportFormat.PValue) ? "p_value" : Renamer(m));
        model.Import("pairs", new Func<IReadOnlyDictionary<string, object>?, IEnumerable<ScriptObject>>(Pairs));
        model["assets"] = new ScriptObject
        {
            ["vega_js"] = ReportTemplates.Asset("vega.min.js"),
            ["vega_lite_js"] = ReportTemplates.Asset("vega-lite.min.js"),
            ["vega_embed_js"] = ReportTemplates.Asset("vega-embed.min.js"),
        };
        return model;
    }

    static void AddCharts(ScriptObject model, Dictionary<string, System.Text.Json.Nodes.JsonNode> charts)
    {
        model["charts_json"] = ReportCharts.ToJson(charts);
        model["chart_ids"] = new ScriptArray(charts.Keys);
    }

    /// <summary>A dictionary as name/value rows sorted by name, for tables of parameters.</summary>
    static IEnumerable<ScriptObject> Pairs(IReadOnlyDictionary<string, object>? values) =>
        (values ?? new Dictionary<string, object>())
        .OrderBy(p => p.Key, StringComparer.Ordinal)
        .Select(p => new ScriptObject { ["name"] = p.Key, ["value"] = ReportFormat.Param(p.Value) });

    string Render(string templateName, ScriptObject model)
    {
        var template = templates.Get(templateName);
        var context = new TemplateContext
        {
            StrictVariables = true,
            TemplateLoader = templates,
            MemberRenamer = Renamer,
            LimitToString = 0, // the inlined chart libraries are far longer than the default cut-off
            LoopLimit = 0, // reports loop over every trial and row; the data is ours, not untrusted input
            EnableRelaxedMemberAccess = false, // a wrong member name (decision.win_ratoi) fails too
        };
        context.PushGlobal(model);
        try
        {
            return template.Render(context);
        }
        catch (ScriptRuntimeException ex)
        {
            throw new ReportTemplateException(
                $"Rendering template '{templateName}' failed at {ex.Span.FileName}({ex.Span.Start.Line + 1},{ex.Span.Start.Column + 1}): " +
                $"{ex.OriginalMessage}. Check the spelling against the report model (C# names in snake_case, e.g. WinRatio → win_ratio).",
                ex);
        }
    }
}
