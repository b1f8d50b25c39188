using System.ComponentModel;
using System.Globalization;
using CtBuild.Ingest;
using CtBuild.Lake;
using CtBuild.Stages;
using CtBuild.Storage;
using Spectre.Console;
using Spectre.Console.Cli;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Cli.Commands;

/// <summary><c>ctb lake tables</c></summary>
public sealed class LakeTablesCommand : Command<WorkspaceSettings>
{
    public override int Execute(CommandContext context, WorkspaceSettings settings, CancellationToken cancellation)
    {
        var lake = settings.LoadWorkspace().LakeDir;
        var tables = LakeCatalog.List(lake);
        settings.Print(tables, () =>
        {
            if (tables.Count == 0)
            {
                Console.WriteLine($"No lake tables yet in {lake}. `ctb ingest` makes the first ones from the raw folder.");
                return;
            }
            var table = new Table().Border(TableBorder.Simple).AddColumns("table", "version", "rows", "files", "size", "last commit");
            foreach (var t in tables)
                table.AddRow(t.Name, t.LatestVersion is { } v ? $"v{v}" : "no version yet", t.Rows.ToString("N0"), t.Files.ToString(),
                    $"{t.Bytes / 1024.0:N0} KiB", t.LastCommitTime?.ToString("yyyy-MM-dd HH:mm:ss") ?? "— (empty)");
            AnsiConsole.Write(table);
        });
        return 0;
    }
}

public class LakeTableSettings : WorkspaceSettings
{
    [CommandArgument(0, "<TABLE>")]
    [Description("raw, quarantine, features or splits (see `ctb lake tables`).")]
    public string Table { get; init; } = "";

    public DeltaTable Open()
    {
        var t = DeltaTable.At(Path.Combine(LoadWorkspace().LakeDir, Table));
        if (!t.Exists) throw new CtBuildException($"There is no lake table '{Table}' in {LoadWorkspace().LakeDir}. See `ctb lake tables`.");
        return t;
    }
}

/// <summary><c>ctb lake history</c></summary>
public sealed class LakeHistoryCommand : Command<LakeTableSettings>
{
    public override int Execute(CommandContext context, LakeTableSettings settings, CancellationToken cancellation)
    {
        var history = settings.Open().History();
        settings.Print(history, () =>
        {
            var table = new Table().Border(TableBorder.Simple).AddColumns("version", "time", "operation", "rows added", "rows removed", "from");
            foreach (var c in history)
                table.AddRow($"v{c.Version}", c.Timestamp.ToString("yyyy-MM-dd HH:mm:ss"), Markup.Escape(c.Operation ?? ""),
                    c.RecordsAdded?.ToString("N0") ?? "", c.RecordsRemoved?.ToString("N0") ?? "",
                    Markup.Escape(string.Join(", ", c.Lineage?.Sources.Select(s => $"{s.Table} v{s.Version}") ?? [])));
            AnsiConsole.Write(table);
        });
        return 0;
    }
}

public sealed class LakeShowSettings : LakeTableSettings
{
    [CommandOption("--version <N>")] [Description("Time travel to version N.")]
    public long? Version { get; init; }

    [CommandOption("--as-of <TIME>")] [Description("Time travel to the version current at this time (ISO 8601).")]
    public string? AsOf { get; init; }

    [CommandOption("--limit <K>")] [Description("Rows to show (default 20).")]
    public int Limit { get; init; } = 20;
}

/// <summary><c>ctb lake show</c></summary>
public sealed class LakeShowCommand : Command<LakeShowSettings>
{
    public override int Execute(CommandContext context, LakeShowSettings settings, CancellationToken cancellation)
    {
        var table = settings.Open();
        if (settings.Version is not null && settings.AsOf is not null) throw new ConfigException("Give --version or --as-of, not both.");
        DeltaSnapshot snapshot;
        if (settings.AsOf is { } text)
        {
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                throw new ConfigException($"--as-of '{text}' is not a time; use ISO 8601 like 2026-11-27T08:00:00Z.");
            snapshot = table.SnapshotAsOf(time);
        }
        else snapshot = table.Snapshot(settings.Version);
        using var db = DuckDb.Open();
        var columns = snapshot.Schema.Select(f => f.Name).ToList();
        var rows = db.Query($"SELECT * FROM {snapshot.ToDuckDbSql()} LIMIT {Math.Max(0, settings.Limit)}", r =>
        {
            var values = new Dictionary<string, object?>();
            for (var i = 0; i < r.FieldCount; i++) values[r.GetName(i)] = r.IsDBNull(i) ? null : r.GetValue(i);
            return values;
        });
        settings.Print(new { table = settings.Table, version = snapshot.Version, rowCount = snapshot.RowCount, rows }, () =>
        {
            AnsiConsole.MarkupLine($"[bold]{settings.Table}[/] v{snapshot.Version} ({snapshot.RowCount:N0} rows, committed {snapshot.Timestamp:u})");
            string Text(Dictionary<string, object?> row, string c) => row.GetValueOrDefault(c) switch
            {
                null => "null",
                DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
                DateTimeOffset t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFzzz", CultureInfo.InvariantCulture),
                var v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "null",
            };
            var table = new TextTable([.. columns]);
            foreach (var row in rows) table.AddRow([.. columns.Select(c => Text(row, c))]);
            if (table.FitsTerminal)
            {
                table.Write();
                return;
            }
            // Too wide for the terminal: each row as "column  value" lines (psql's expanded display).
            for (var i = 0; i < rows.Count; i++)
            {
                AnsiConsole.Write(new Rule($"row {i + 1}").LeftJustified());
                var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
                foreach (var c in columns) grid.AddRow(new Text(c), new Text(Text(rows[i], c)));
                AnsiConsole.Write(grid);
            }
        });
        return 0;
    }
}

public sealed class LakeDiffSettings : LakeTableSettings
{
    [CommandArgument(1, "<A>")] [Description("The older version.")]
    public long A { get; init; }

    [CommandArgument(2, "<B>")] [Description("The newer version.")]
    public long B { get; init; }
}

/// <summary><c>ctb lake diff</c></summary>
public sealed class LakeDiffCommand : Command<LakeDiffSettings>
{
    public override int Execute(CommandContext context, LakeDiffSettings settings, CancellationToken cancellation)
    {
        var table = settings.Open();
        using var db = DuckDb.Open();
        var lineage = settings.Table == IngestStage.RawTable ? FileValidation.LineageColumns : [];
        var diff = TableDiff.Compare(db, table.Snapshot(settings.A), table.Snapshot(settings.B), [.. lineage]);
        settings.Print(diff, () =>
        {
            AnsiConsole.WriteLine($"{settings.Table} v{settings.A} → v{settings.B}: rows {diff.RowsA:N0} → {diff.RowsB:N0}");
            foreach (var s in diff.SchemaChanges) AnsiConsole.WriteLine($"  schema: {s.Column} {s.Change} {s.TypeA} → {s.TypeB}");
            var t = new Table().Border(TableBorder.Simple).AddColumns("column", "kind", "PSI", "mean A", "mean B", "");
            foreach (var c in diff.Drift.OrderByDescending(c => c.Psi))
                t.AddRow(Markup.Escape(c.Name), c.Kind.ToString().ToLowerInvariant(), c.Psi.ToString("0.0000", CultureInfo.InvariantCulture),
                    c.MeanA?.ToString("0.###", CultureInfo.InvariantCulture) ?? "", c.MeanB?.ToString("0.###", CultureInfo.InvariantCulture) ?? "",
                    c.Flagged ? "[yellow]drift[/]" : "");
            AnsiConsole.Write(t);
        });
        return 0;
    }
}
