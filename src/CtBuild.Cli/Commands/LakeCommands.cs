using System.ComponentModel;
using System.Globalization;
using CtBuild.Configuration;
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

public sealed class LakeOptimizeSettings : LakeTableSettings
{
    [CommandOption("--target-size <SIZE>")] [Description("Pack small files into files of up to this size, e.g. 64MB (default: lake.targetFileSize, 128MB).")]
    public string? TargetSize { get; init; }
}

/// <summary><c>ctb lake optimize</c></summary>
public sealed class LakeOptimizeCommand : Command<LakeOptimizeSettings>
{
    public override int Execute(CommandContext context, LakeOptimizeSettings settings, CancellationToken cancellation)
    {
        var table = settings.Open();
        var lake = settings.LoadWorkspace().Config.Lake;
        var target = ByteSizes.Parse(settings.TargetSize ?? lake.TargetFileSize);
        if (target <= 0) throw new ConfigException("--target-size must be positive, e.g. 64MB.");
        using var db = DuckDb.Open();
        var r = TableCompaction.Optimize(db, table, target, lake.CheckpointInterval);
        settings.Print(r, () => AnsiConsole.WriteLine(r.Committed
            ? $"{settings.Table}: {r.FilesRemoved:N0} small files ({ByteSizes.Format(r.BytesRemoved)}) rewritten as {r.FilesAdded:N0} " +
              $"({ByteSizes.Format(r.BytesAdded)}) in v{r.Version}; {r.FilesBefore:N0} → {r.FilesAfter:N0} live files. " +
              "The old files stay for time travel until `ctb lake vacuum`."
            : $"{settings.Table} v{r.ReadVersion}: nothing to optimize ({r.FilesBefore:N0} live files, none of two or more below {ByteSizes.Format(target)} to merge)."));
        return 0;
    }
}

public sealed class LakeVacuumSettings : LakeTableSettings
{
    [CommandOption("--retain <DURATION>")] [Description("Keep every file a version of this window needs, e.g. 7d or 36h (default: lake.retain, 7d; at least 1h).")]
    public string? Retain { get; init; }

    [CommandOption("--apply")] [Description("Delete the files. Without it vacuum only lists them (a dry run, as Delta's VACUUM DRY RUN).")]
    public bool Apply { get; init; }
}

/// <summary><c>ctb lake vacuum</c></summary>
public sealed class LakeVacuumCommand : Command<LakeVacuumSettings>
{
    public override int Execute(CommandContext context, LakeVacuumSettings settings, CancellationToken cancellation)
    {
        var table = settings.Open();
        var retainText = settings.Retain ?? settings.LoadWorkspace().Config.Lake.Retain;
        if (!Durations.TryParse(retainText, out var retain)) throw new ConfigException($"--retain '{retainText}' is not a duration like 7d, 36h or 90m.");
        var now = DateTimeOffset.UtcNow;
        var r = settings.Apply ? TableVacuum.Apply(table, retain, now) : TableVacuum.Plan(table, retain, now);
        var json = new
        {
            table = settings.Table, applied = r.Applied, retainSeconds = (long)r.Retain.TotalSeconds, cutoff = r.Cutoff,
            oldestVersionKept = r.OldestVersionKept, latestVersion = r.LatestVersion, files = r.Files.Select(f => Path.GetRelativePath(table.Folder, f.Path)),
            fileCount = r.Files.Count, bytes = r.Bytes, deleted = r.Deleted,
        };
        settings.Print(json, () =>
        {
            var window = $"versions v{r.OldestVersionKept}..v{r.LatestVersion} (committed after {r.Cutoff:u}, and the one current then)";
            if (r.Files.Count == 0) { AnsiConsole.WriteLine($"{settings.Table}: nothing to delete; every data file is needed by {window} or is newer than the cutoff."); return; }
            foreach (var f in r.Files.Take(settings.Apply ? 0 : 50))
                AnsiConsole.WriteLine($"  {Path.GetRelativePath(table.Folder, f.Path)}  {ByteSizes.Format(f.Size)}  {f.LastWrite:u}");
            if (!settings.Apply && r.Files.Count > 50) AnsiConsole.WriteLine($"  … and {r.Files.Count - 50:N0} more (--json lists them all)");
            AnsiConsole.WriteLine(settings.Apply
                ? $"{settings.Table}: deleted {r.Deleted:N0} files ({ByteSizes.Format(r.Bytes)}) that no version of {window} references."
                : $"{settings.Table}: would delete {r.Files.Count:N0} files ({ByteSizes.Format(r.Bytes)}) that no version of {window} references. " +
                  "Versions before v" + r.OldestVersionKept + " will no longer be readable. Run again with --apply to delete them.");
        });
        return 0;
    }
}
