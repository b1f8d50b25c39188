using System.ComponentModel;
using System.Globalization;
using CtBuild.Tracking;
using Spectre.Console;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public sealed class RunsListSettings : WorkspaceSettings
{
    [CommandOption("--experiment <NAME>")]
    [Description("Only runs of this experiment (the model name).")]
    public string? Experiment { get; init; }

    [CommandOption("--filter <EXPR>")]
    [Description("MLflow-style filter, e.g. \"metrics.valid_auc > 0.9 and params.trainer = 'LightGbm'\".")]
    public string? Filter { get; init; }

    [CommandOption("--order-by <EXPR>")]
    [Description("e.g. \"metrics.valid_auc DESC\"; newest first by default.")]
    public string? OrderBy { get; init; }

    [CommandOption("--limit <N>")]
    [Description("At most N runs (default 50).")]
    public int Limit { get; init; } = 50;

    [CommandOption("--metrics <NAMES>")]
    [Description("Comma-separated metric columns, e.g. valid_auc,test_auc (default: the four most common).")]
    public string? Metrics { get; init; }
}

/// <summary><c>ctb runs list</c></summary>
public sealed class RunsListCommand : Command<RunsListSettings>
{
    public override int Execute(CommandContext context, RunsListSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var store = TrackingStore.Open(ws.TrackingDir, readOnly: true);
        var runs = store.ListRuns(new RunQuery(settings.Experiment, settings.Filter, settings.OrderBy, settings.Limit));
        settings.Print(runs.Select(r => new { r.Id, r.Name, status = r.Status.ToString(), r.StartTime, r.EndTime, r.ParentRunId, r.Metrics, r.Tags }), () =>
        {
            // Metric columns: the requested ones, else the four most common (valid_auc for trials, ...).
            var metricNames = settings.Metrics is { } requested
                ? requested.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList()
                : runs.SelectMany(r => r.Metrics.Keys).GroupBy(n => n).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => g.Key).Take(4).ToList();
            var table = new TextTable(["run", "name", "status", "started", .. metricNames]).RightAlign(4);
            foreach (var r in runs)
                table.AddRow([r.Id, r.Name, r.Status.ToString(), r.StartTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    .. metricNames.Select(m => r.Metrics.TryGetValue(m, out var v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "")]);
            table.Write();
            AnsiConsole.MarkupLine($"[grey]{runs.Count} run(s)[/]");
        });
        return 0;
    }
}

public sealed class RunIdSettings : WorkspaceSettings
{
    [CommandArgument(0, "<RUN_ID>")]
    [Description("The run's id (see `ctb runs list`).")]
    public string RunId { get; init; } = "";
}

/// <summary><c>ctb runs show</c></summary>
public sealed class RunsShowCommand : Command<RunIdSettings>
{
    public override int Execute(CommandContext context, RunIdSettings settings, CancellationToken cancellation)
    {
        var run = TrackingStore.Open(settings.LoadWorkspace().TrackingDir, readOnly: true).GetRun(settings.RunId);
        settings.Print(run, () =>
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(run.Name)}[/] {run.Id}  {run.Status}  {run.StartTime:u} → {run.EndTime:u}");
            if (run.Error is not null) AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(run.Error)}");
            if (run.ParentRunId is not null) AnsiConsole.WriteLine($"parent: {run.ParentRunId}");
            if (run.CodeVersion is { } code) AnsiConsole.WriteLine($"code: {code.Commit ?? "(not a git repository)"}{(code.Dirty ? " (dirty)" : "")}");
            Section("params", run.Params.Select(p => (p.Key, p.Value)));
            Section("metrics", run.Metrics.Select(m => (m.Key, m.Value.ToString("0.######", CultureInfo.InvariantCulture))));
            Section("tags", run.Tags.Select(t => (t.Key, t.Value)));
            Section("inputs", run.Inputs.Select(i => (i.Table, $"v{i.Version} {i.Digest}")));
            Section("artifacts", run.Artifacts.Select(a => (a.Name, $"{a.Size} bytes sha256 {a.Sha256[..12]}…")));
        });
        return 0;
    }

    static void Section(string title, IEnumerable<(string Key, string Value)> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        AnsiConsole.MarkupLine($"[bold]{title}[/]");
        foreach (var (k, v) in list) AnsiConsole.WriteLine($"  {k,-28} {v}");
    }
}

public sealed class RunsCompareSettings : WorkspaceSettings
{
    [CommandArgument(0, "<RUN_IDS>")]
    [Description("Two or more run ids.")]
    public string[] RunIds { get; init; } = [];
}

/// <summary><c>ctb runs compare</c></summary>
public sealed class RunsCompareCommand : Command<RunsCompareSettings>
{
    public override int Execute(CommandContext context, RunsCompareSettings settings, CancellationToken cancellation)
    {
        if (settings.RunIds.Length < 2) throw new ConfigException("Name at least two runs to compare: ctb runs compare <id1> <id2> …");
        var comparison = TrackingStore.Open(settings.LoadWorkspace().TrackingDir, readOnly: true).CompareRuns(settings.RunIds);
        settings.Print(comparison, () =>
        {
            var table = new Table().Border(TableBorder.Simple).AddColumn("");
            foreach (var id in comparison.RunIds) table.AddColumn(id);
            foreach (var p in comparison.Params) table.AddRow([Mark(p.Differs, "params." + p.Name), .. p.Values.Select(v => Markup.Escape(v ?? "—"))]);
            foreach (var m in comparison.Metrics)
                table.AddRow([Mark(m.Differs, "metrics." + m.Name), .. m.Values.Select(v => v?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "—")]);
            AnsiConsole.Write(table);
        });
        return 0;
    }

    static string Mark(bool differs, string name) => differs ? $"[yellow]{Markup.Escape(name)}[/]" : Markup.Escape(name);
}
