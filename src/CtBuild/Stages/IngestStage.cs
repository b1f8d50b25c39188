using System.Text.Json;
using CtBuild.Ingest;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Stages;

/// <summary>
/// Ingest: captures new raw files as-is, checks each row against the contract, and commits the good rows
/// to the <c>raw</c> table and the bad ones to <c>quarantine</c> — one new version of each.
/// Inputs: every raw file's content hash and the ingest config. Outputs: the two table versions.
/// </summary>
public sealed class IngestStage : Stage
{
    public const string RawTable = "raw";
    public const string QuarantineTable = "quarantine";

    public override string Name => "ingest";
    public override string CodeVersion => "ingest/5";

    /// <summary>Files to put in quarantine whole instead of validating them (<c>ctb ingest --quarantine-file NAME</c>).</summary>
    public IReadOnlyList<string> QuarantineFiles { get; init; } = [];

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        var values = new Dictionary<string, string>
        {
            ["code"] = CodeVersion,
            ["config.ingest"] = Section(ws.Config.Ingest),
        };
        foreach (var (name, path) in RawFile.List(ws.RawDir, ws.Config.Ingest.Patterns))
            values["file:" + name] = context.FileHashes.Hash(path);
        foreach (var (name, etag) in BlobDeliveries.For(ws).List())
            values["blob:" + name] = etag;
        foreach (var name in QuarantineFiles) values["quarantine-file:" + name] = "whole";
        return new StageInputs(values);
    }

    public override bool OutputsIntact(StageContext context, StageOutputs recorded) =>
        LakeTables.LatestVersion(context.Workspace, RawTable)?.ToString() == recorded.Get("raw.version")
        && LakeTables.LatestVersion(context.Workspace, QuarantineTable)?.ToString() == recorded.Get("quarantine.version");

    public override StageOutputs Run(StageContext context)
    {
        var ws = context.Workspace;
        var cfg = ws.Config.Ingest;
        var raw = LakeTables.OpenForWrite(ws, RawTable, context.Log);
        var quarantine = LakeTables.OpenForWrite(ws, QuarantineTable, context.Log);
        var ingested = IngestedFiles(raw);

        var blobs = BlobDeliveries.For(ws).Fetch(context.Log); // local copies, read below like raw files
        var files = RawFile.List(ws.RawDir, cfg.Patterns).Concat(blobs.Select(b => (b.Name, b.FullPath)))
            .Select(f => (f, Stamp: context.FileHashes.Stamp(f.FullPath)))
            .Select(x => new RawFile(x.f.Name, x.f.FullPath, RawFile.FormatOf(x.f.Name)!.Value, x.Stamp.Size, x.Stamp.Sha256, x.Stamp.MtimeTicks))
            .ToList();
        var unknown = QuarantineFiles.Where(q => files.All(f => f.Name != q)).ToList();
        if (unknown.Count > 0)
            throw new ConfigException($"--quarantine-file: no raw file named {string.Join(", ", unknown)} in {ws.RawDir}. " +
                $"Name it as ingest lists it (relative to the raw folder), e.g. {files.FirstOrDefault()?.Name ?? "day-1.csv"}.");
        var knownContent = ingested.Values.ToHashSet(StringComparer.Ordinal);
        var fresh = new List<RawFile>();
        var duplicates = new List<RawFile>();
        foreach (var f in files.Where(f => !ingested.TryGetValue(f.Name, out var sha) || sha != f.Sha256))
        {
            // The same bytes under another name is a re-delivery: ingesting it would count every row twice.
            // It is recorded in the commit as skipped, so the warning is given once, not on every run.
            if (knownContent.Contains(f.Sha256) || fresh.Any(x => x.Sha256 == f.Sha256))
            {
                context.Log.Warning($"{f.Name} has the same content as a file already ingested; skipped", f.Name);
                duplicates.Add(f);
            }
            else fresh.Add(f);
        }
        var changed = fresh.Where(f => ingested.ContainsKey(f.Name)).ToList();
        foreach (var f in changed)
            context.Log.Warning($"{f.Name} was ingested before with different content; its earlier rows are replaced by this delivery", f.Name);
        if (fresh.Count == 0 && duplicates.Count == 0)
        {
            context.Log.Info("ingest: no new raw files");
            return Outputs(raw, quarantine, "no new files", 0, 0);
        }

        var captures = new Captures(ws.LakeDir);
        var phases = new IngestPhases();
        var runClock = System.Diagnostics.Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        var workDir = Path.Combine(ws.StateDir, "ingest"); // numbered copies of CSV files, deleted below
        if (Directory.Exists(workDir)) Directory.Delete(workDir, recursive: true);
        try
        {
            using var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill"));
            var validation = new FileValidation(db, cfg, now, workDir);
            var writer = LakeTables.Writer(ws, db);
            // One raw data file per delivered file, committed together after the quarantine.
            using var rawWrite = writer.Begin(raw);
            var results = new List<FileValidationResult>();
            // While DuckDB reads one file, the next is captured and numbered on the other core (small files gain most).
            // The numbered copy is made from the delivered file, beside the capture, and DuckDB reads that copy, so the
            // capture need only be done before the commit (a Parquet file, or one quarantined whole, is read from its
            // capture, which it waits for). The file must still be as it was hashed when the numbering ends and when the
            // capture ends, so both read the hashed bytes.
            var started = new List<Task<string>>(); // every capture, waited for before the commit and when the run fails
            PreparedFile PrepareFile(int i)
            {
                var file = fresh[i];
                var capture = Task.Run(() => phases.Time("capture", () => captures.Capture(file)));
                lock (started) started.Add(capture);
                if (file.Format == RawFormat.Parquet || QuarantineFiles.Contains(file.Name))
                    return validation.Prepare(file, i, phases.Time("waiting for the capture", () => capture.GetAwaiter().GetResult()));
                var prepared = phases.Time("numbered copy", () => validation.Prepare(file, i, file.FullPath));
                Captures.EnsureUnchanged(file);
                return prepared;
            }
            Task<string>[] Started() { lock (started) return [.. started]; }
            Task<PreparedFile>? next = null;
            try
            {
                next = fresh.Count > 0 ? Task.Run(() => PrepareFile(0)) : null;
                for (var i = 0; i < fresh.Count; i++)
                {
                    var prepared = phases.Time("waiting for the copy", () => next!.GetAwaiter().GetResult());
                    var following = i + 1;
                    next = following < fresh.Count ? Task.Run(() => PrepareFile(following)) : null;
                    context.Cancellation.ThrowIfCancellationRequested();
                    var file = prepared.File;
                    context.Log.Progress("ingest", i + 1, fresh.Count, file.Name);
                    var quarantineWhole = QuarantineFiles.Contains(file.Name);
                    var result = quarantineWhole
                        ? validation.QuarantineWhole(file, i, prepared.Captured)
                        : IngestPreparedFile(validation, rawWrite, prepared, phases);
                    if (prepared.Numbered is { } numbered) foreach (var part in numbered.Files) File.Delete(part);
                    results.Add(result);
                    Report(context.Log, result, quarantineWhole);
                }
                phases.Time("waiting for the capture", () =>
                {
                    foreach (var capture in Started()) capture.GetAwaiter().GetResult(); // its own error (disk full, file changed), not wrapped
                });
            }
            catch
            {
                // A failed capture (disk full, the file changed) is the cause to report, not what failed beside it.
                foreach (var capture in Started())
                {
                    try { capture.Wait(); } catch (AggregateException) { }
                    if (capture.IsFaulted) capture.GetAwaiter().GetResult();
                }
                throw;
            }
            finally
            {
                // A failed run must not leave a copy being written.
                try { next?.Wait(); } catch (AggregateException) { }
                try { Task.WaitAll(Started()); } catch (AggregateException) { }
            }

            var tooBad = results.Where(r => r.BadFraction > cfg.MaxBadFraction && !QuarantineFiles.Contains(r.File.Name)).ToList();
            if (tooBad.Count > 0)
                throw new CtBuildException(string.Join(Environment.NewLine, tooBad.Select(r => TooManyBadRows(db, r, cfg.MaxBadFraction))));

            var good = results.Sum(r => r.GoodRows);
            var bad = results.Sum(r => r.BadRows);
            var replaced = changed.Select(f => Literal(f.Name)).ToList();
            if (good == 0 && bad == 0 && replaced.Count == 0 && raw.Exists)
            {
                // Nothing to add (empty or header-only files, re-deliveries): a new version would only make features stale.
                context.Log.Info($"ingest: nothing to commit ({fresh.Count} file(s) without rows, {duplicates.Count} re-delivered)");
                return Outputs(raw, quarantine, "no new rows", 0, 0);
            }
            var batch = Hashing.Sha256Hex(string.Join("\n", fresh.Concat(duplicates).Select(f => f.Name + ":" + f.Sha256)));
            var fileList = JsonSerializer.Serialize(results
                .Select(r => new IngestedFile(r.File.Name, r.File.Sha256, r.GoodRows, r.BadRows, r.DroppedColumns)
                    { EmptyColumns = r.EmptyColumns, QuarantinedWhole = QuarantineFiles.Contains(r.File.Name) })
                .Concat(duplicates.Select(d => new IngestedFile(d.Name, d.Sha256, 0, 0, []) { Duplicate = true })));
            var parameters = new Dictionary<string, string> { ["batch"] = batch, ["files"] = fileList };
            if (blobs.Where(b => fresh.Any(f => f.Name == b.Name)).Select(b => new { b.Name, b.ETag, b.Sha256 }).ToList() is { Count: > 0 } delivered)
                parameters["blobs"] = JsonSerializer.Serialize(delivered); // the ETag each delivered blob was read at
            var mode = replaced.Count > 0 ? WriteMode.Overwrite : WriteMode.Append;

            // Quarantine first, raw last: the raw commit is what marks the files as ingested, so a crash
            // between the two re-runs the batch, and the quarantine commit of that batch is not written twice.
            var quarantineSql = Union(results.Select(r => $"SELECT * FROM {r.BadTable}"), quarantine, "source_file", replaced);
            if (!CommittedBatch(quarantine, batch) && (results.Any(r => r.BadRows > 0) || replaced.Count > 0 || !quarantine.Exists))
                phases.Time("quarantine commit", () => writer.Write(quarantine, quarantineSql, mode, "WRITE", parameters));
            FaultInjection.Point("ingest.between-quarantine-and-raw");
            // A re-delivered file replaces its earlier rows: the overwrite keeps every other file's rows.
            if (replaced.Count > 0 && raw.Exists)
                rawWrite.Add(Union([], raw, "_source_file", replaced));
            if (rawWrite.Fields.Count == 0) rawWrite.Add(validation.NoRowsSql()); // every file quarantined whole: the commit still records them
            phases.Time("raw commit", () => rawWrite.Commit(mode, "WRITE", parameters));
            context.Log.Info(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ingest: ran {runClock.Elapsed.TotalSeconds:0.00} s: {phases}"));

            return Outputs(raw, quarantine, $"{fresh.Count} file(s), {good} rows to raw, {bad} quarantined", good, bad);
        }
        finally
        {
            if (Directory.Exists(workDir)) Directory.Delete(workDir, recursive: true);
        }
    }

    /// <summary>
    /// Ingests one local file whose bytes are already captured (and prepared): its good rows become one data file of
    /// <paramref name="rawWrite"/>, its bad rows a temp table of quarantine rows. Any source that can put
    /// a file on disk (the raw folder, a downloaded blob) comes through here.
    /// </summary>
    static FileValidationResult IngestPreparedFile(FileValidation validation, DeltaWriter.PendingWrite rawWrite, PreparedFile prepared, IngestPhases phases)
    {
        var check = phases.Time("load", () => validation.Check(prepared));
        var written = phases.Time("typed read and write", () => rawWrite.Add(check.GoodSql));
        return phases.Time("quarantine rows", () => validation.Finish(check, written));
    }

    static void Report(IPipelineLog log, FileValidationResult result, bool quarantinedWhole)
    {
        var name = result.File.Name;
        if (quarantinedWhole) { log.Warning($"{name}: all {result.BadRows} rows quarantined, as --quarantine-file asked", name); return; }
        if (result.TotalRows == 0) log.Warning($"{name} holds no rows", name);
        if (result.DroppedColumns.Count > 0)
            log.Warning($"{name}: extra column(s) dropped by the schemaDrift policy: {string.Join(", ", result.DroppedColumns)}", name);
        if (result.EmptyColumns.Count > 0)
            log.Warning($"{name}: column(s) empty in every row: {string.Join(", ", result.EmptyColumns)}; check the export that produced the file", name);
        if (result.BadRows > 0)
            log.Warning($"{name}: {result.BadRows} of {result.TotalRows} rows quarantined", name);
    }

    static StageOutputs Outputs(DeltaTable raw, DeltaTable quarantine, string summary, long good, long bad) => StageOutputs.Of(summary,
        ("raw.version", raw.LatestVersion()?.ToString() ?? ""),
        ("quarantine.version", quarantine.LatestVersion()?.ToString() ?? ""),
        ("rows.good", good.ToString()), ("rows.quarantined", bad.ToString()));

    /// <summary>New rows, plus — when a file was re-delivered with new content — the table's other rows (an overwrite).</summary>
    static string Union(IEnumerable<string> queries, DeltaTable existing, string fileColumn, IReadOnlyList<string> replaced)
    {
        var parts = queries.ToList();
        if (replaced.Count > 0 && existing.Exists)
            parts.Insert(0, $"SELECT * FROM {existing.Snapshot().ToDuckDbSql()} WHERE {Ident(fileColumn)} NOT IN ({string.Join(", ", replaced)})");
        return string.Join(" UNION ALL BY NAME ", parts);
    }

    /// <summary>File name → content hash of every file in the raw table's history, newest delivery winning.</summary>
    internal static Dictionary<string, string> IngestedFiles(DeltaTable raw)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!raw.Exists) return files;
        foreach (var commit in raw.History().Reverse())
            if (commit.OperationParameters.TryGetValue("files", out var json))
                foreach (var f in JsonSerializer.Deserialize<List<IngestedFile>>(json, AtomicFile.Json) ?? [])
                    files[f.Name] = f.Sha256;
        return files;
    }

    /// <summary>The live deliveries of raw up to <paramref name="version"/> that had a column empty in every row.</summary>
    internal static IReadOnlyList<Reporting.EmptyColumns> EmptyColumnsUpTo(DeltaTable raw, long version)
    {
        var files = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var commit in raw.History().Reverse().Where(c => c.Version <= version))
            if (commit.OperationParameters.TryGetValue("files", out var json))
                foreach (var f in JsonSerializer.Deserialize<List<IngestedFile>>(json, AtomicFile.Json) ?? [])
                    if (!f.Duplicate) files[f.Name] = f.EmptyColumns ?? [];
        return files.Where(f => f.Value.Count > 0).Select(f => new Reporting.EmptyColumns(f.Key, f.Value)).ToList();
    }

    static bool CommittedBatch(DeltaTable table, string batch) =>
        table.Exists && table.History().Any(c => c.OperationParameters.TryGetValue("batch", out var b) && b == batch);

    static string TooManyBadRows(DuckDB.NET.Data.DuckDBConnection db, FileValidationResult r, double limit)
    {
        var top = db.Query($"""
            SELECT coalesce("column", '(row)') AS c, rule, count(*) AS n, min(line) AS first_line, arg_min(reason, line)
            FROM {r.BadTable} GROUP BY c, rule ORDER BY n DESC LIMIT 3
            """, x => $"{x.GetString(0)}: {x.GetString(1)} ({x.GetInt64(2)} rows, first at line {x.GetInt64(3)}: {x.GetString(4)})");
        return $"{r.File.Name}: {r.BadRows} of {r.TotalRows} rows ({r.BadFraction:P1}) break the contract, more than ingest.maxBadFraction {limit:P1}. " +
               $"Top reasons: {string.Join("; ", top)}. Nothing was ingested. Ways out: fix the file (or the contract) and run ingest again; remove it from the raw folder; " +
               $"raise ingest.maxBadFraction; or keep it out of raw with `ctb ingest --quarantine-file {r.File.Name}` (every row goes to quarantine and the file counts as ingested).";
    }
}

/// <summary>One delivered file as recorded in the raw table's commit.</summary>
public sealed record IngestedFile(string Name, string Sha256, long Rows, long Quarantined, IReadOnlyList<string> DroppedColumns)
{
    /// <summary>Contract columns missing in every row of the file.</summary>
    public IReadOnlyList<string> EmptyColumns { get; init; } = [];
    /// <summary>Put in quarantine whole by <c>ctb ingest --quarantine-file</c>.</summary>
    public bool QuarantinedWhole { get; init; }
    /// <summary>Skipped: the same content as a file already ingested.</summary>
    public bool Duplicate { get; init; }
}
