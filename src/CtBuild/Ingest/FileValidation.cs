using CtBuild.Configuration;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest;

/// <summary>
/// One raw file read into DuckDB and judged against the contract: <see cref="GoodSql"/> selects its good rows,
/// typed, with their source file, hash and line. <see cref="Numbered"/> is set when the rows are read from a
/// numbered copy of a CSV file; its quarantine is completed after the good rows are written.
/// </summary>
public sealed record CheckedFile(RawFile File, string GoodSql, string BadTable, IReadOnlyList<string> DroppedColumns,
    IReadOnlyList<string> MissingColumns, NumberedCsv? Numbered);

/// <summary>What validating one raw file produced: its good row count and a temp table of quarantined rows.</summary>
public sealed record FileValidationResult(RawFile File, string BadTable, long GoodRows, long BadRows,
    IReadOnlyList<string> DroppedColumns, IReadOnlyList<string> MissingColumns)
{
    public long TotalRows => GoodRows + BadRows;
    public double BadFraction => TotalRows == 0 ? 0 : (double)BadRows / TotalRows;
}

/// <summary>
/// Reads one raw file into DuckDB, checks every row against the contract, and splits the rows into good,
/// typed rows and a quarantine table (file, line, column, reason, the record itself). Every input row
/// lands in exactly one of the two. Two steps: <see cref="Check"/> makes the query of the good rows, the
/// caller writes them (the one full read of a clean CSV file), and <see cref="Finish"/> completes the
/// quarantine from what that read rejected.
/// </summary>
public sealed class FileValidation(DuckDBConnection db, IngestConfig config, DateTimeOffset ingestedAt, string workDir)
{
    ContractColumns _contract = new(config);

    /// <summary>The columns added to every good row (see <see cref="Check"/>): where it came from and when it was ingested.</summary>
    public static readonly IReadOnlyList<string> LineageColumns = ["_source_file", "_source_sha256", "_source_line", "_ingested_at"];

    public const string QuarantineColumns =
        "source_file VARCHAR, source_sha256 VARCHAR, line BIGINT, \"column\" VARCHAR, rule VARCHAR, reason VARCHAR, record VARCHAR, ingested_at TIMESTAMPTZ";

    /// <summary>Reads <paramref name="captured"/> (the file's captured bytes) and returns the query of its good rows.</summary>
    public CheckedFile Check(RawFile file, int index, string captured)
    {
        var text = $"src_{index}";
        var bad = $"bad_{index}";
        db.Exec($"CREATE OR REPLACE TEMP TABLE {bad} ({QuarantineColumns})");
        _contract = new ContractColumns(config); // a CSV read may switch to typed; every file starts untyped
        var (header, numbered) = LoadAsText(file, captured, text, bad, index);
        var (dropped, missing) = CheckSchema(file, header);

        var judged = Judged(text, header);
        if (numbered is null)
            db.Exec($"INSERT INTO {bad} {BadRowsSql(file, judged, header)}");
        var typed = _contract.Names.Select(n => $"{_contract.Typed(n)} AS {Ident(n)}");
        var good = $"""
            SELECT {string.Join(", ", typed)}, {Constant(file.Name)} AS _source_file, {Constant(file.Sha256)} AS _source_sha256,
                   _line AS _source_line, {IngestedAt} AS _ingested_at
            FROM ({judged}) WHERE _bad_reason IS NULL
            """;
        return new CheckedFile(file, good, bad, dropped, missing, numbered);
    }

    /// <summary>
    /// Completes the quarantine once <paramref name="goodRows"/> rows of <see cref="CheckedFile.GoodSql"/> were written.
    /// For a numbered CSV: the lines DuckDB rejected during that read, and — only when rows are still
    /// unaccounted for — a second read for the rows that parse but break a rule.
    /// </summary>
    public FileValidationResult Finish(CheckedFile check, long goodRows)
    {
        var bad = check.BadTable;
        if (check.Numbered is { } numbered)
        {
            var text = $"{bad}_again";
            InsertRejects(check.File, $"{bad}_rejects", bad, fromNumbered: true);
            var rejected = db.Scalar<long>($"SELECT count(*) FROM {bad}");
            if (numbered.Records - goodRows - rejected > 0)
            {
                // Some rows parse but break a rule: read the file once more for just those (its own rejects table).
                CreateNumberedView(numbered, text, $"{text}_rejects");
                var judged = Judged(text, numbered.Header);
                db.Exec($"INSERT INTO {bad} SELECT * FROM ({BadRowsSql(check.File, judged, numbered.Header)}) WHERE _line NOT IN (SELECT line FROM {bad})");
            }
        }
        var badRows = db.Scalar<long>($"SELECT count(*) FROM {bad}");
        if (check.Numbered is { } n && goodRows + badRows != n.Records)
            throw new CtBuildException($"{check.File.Name}: {n.Records} records were numbered but DuckDB read {goodRows} good and {badRows} bad rows. " +
                "Nothing was ingested. This is a bug in CtBuild's line numbering; please report it with the file (lines ending in a bare carriage return are a known cause).");
        return new FileValidationResult(check.File, bad, goodRows, badRows, check.DroppedColumns, check.MissingColumns);
    }

    /// <summary>
    /// A text that is the same on every row of a file, as a one-value ENUM: DuckDB writes it to Parquet as a
    /// plain dictionary-encoded string (Spark reads a string) without hashing each row's copy of it, which
    /// for the 64-character content hash took a seventh of a large file's ingest.
    /// </summary>
    static string Constant(string text) => $"{Literal(text)}::ENUM({Literal(text)})";

    // With its zone: a naive TIMESTAMP would make the lake writer rewrite the file to store it as UTC.
    string IngestedAt => $"TIMESTAMPTZ {Literal(ingestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff") + "+00")}";

    /// <summary>The rows of <paramref name="text"/> with the first rule each breaks (NULLs when none).</summary>
    string Judged(string text, IReadOnlyList<string> header)
    {
        var (vColumn, vRule, vReason) = _contract.FirstViolation();
        return $"""
            SELECT *, {string.Join("", _contract.Names.Where(n => !header.Contains(n)).Select(m => $"NULL::{(_contract.TypedSource ? ContractColumns.DuckType(config.Columns[m].Type) : "VARCHAR")} AS {Ident(m)}, "))}
                   CASE WHEN _malformed IS NOT NULL THEN NULL ELSE {vColumn} END AS _bad_column,
                   CASE WHEN _malformed IS NOT NULL THEN 'malformed record' ELSE {vRule} END AS _bad_rule,
                   CASE WHEN _malformed IS NOT NULL THEN _malformed ELSE {vReason} END AS _bad_reason
            FROM {text}
            """;
    }

    /// <summary>The quarantine rows of the judged rows that break a rule; the record's JSON is built only for them.</summary>
    string BadRowsSql(RawFile file, string judged, IReadOnlyList<string> header)
    {
        var record = header.Count == 0 ? "NULL::VARCHAR"
            : "coalesce(_raw, to_json(struct_pack(" + string.Join(", ", header.Select(h => $"{Ident(h)} := {Ident(h)}")) + "))::VARCHAR)";
        return $"""
            SELECT {Literal(file.Name)}, {Literal(file.Sha256)}, _line, _bad_column, _bad_rule, _bad_reason, {record}, {IngestedAt}
            FROM ({judged}) WHERE _bad_reason IS NOT NULL
            """;
    }

    (IReadOnlyList<string> Dropped, IReadOnlyList<string> Missing) CheckSchema(RawFile file, IReadOnlyList<string> header)
    {
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new CtBuildException($"{file.Name}: the column '{duplicate.Key}' appears twice in the header. Fix the file and run ingest again.");
        if (header.Count == 0) return ([], []);
        var extra = header.Where(h => !config.Columns.ContainsKey(h)).ToList();
        var missing = _contract.Names.Where(n => !header.Contains(n)).ToList();
        if (extra.Count == 0 && missing.Count == 0) return ([], []);
        var what = string.Join("; ", new[]
        {
            missing.Count > 0 ? "missing column(s): " + string.Join(", ", missing) : null,
            extra.Count > 0 ? "extra column(s): " + string.Join(", ", extra) : null,
        }.Where(s => s is not null));
        if (config.SchemaDrift == "fail")
            throw new CtBuildException($"{file.Name}: schema drift, {what}. Fix the file, add the columns to ingest.columns, or set ingest.schemaDrift to \"dropExtra\" to drop extra columns.");
        var required = missing.Where(m => !config.Columns[m].Nullable || m == config.Label.Column).ToList();
        if (required.Count > 0)
            throw new CtBuildException($"{file.Name}: schema drift, required column(s) missing: {string.Join(", ", required)}. A non-nullable column cannot be filled in; fix the file.");
        return (extra, missing);
    }

    /// <summary>
    /// Loads the file as a view of its columns plus <c>_line</c>, <c>_malformed</c> and <c>_raw</c>; rows DuckDB
    /// cannot parse go to quarantine (for a numbered CSV, when <see cref="Finish"/> runs).
    /// </summary>
    (IReadOnlyList<string> Header, NumberedCsv? Numbered) LoadAsText(RawFile file, string captured, string table, string bad, int index)
    {
        var source = file with { FullPath = captured };
        switch (file.Format)
        {
            case RawFormat.Csv:
            case RawFormat.CsvGzip:
                return LoadCsv(source, table, bad, index);
            case RawFormat.Parquet:
                var cols = db.Query($"DESCRIBE SELECT * FROM read_parquet({Literal(captured)})", r => r.GetString(0)).ToList();
                db.Exec($"""
                    CREATE TEMP VIEW {table} AS SELECT file_row_number + 1 AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw,
                      {string.Join(", ", cols.Select(c => $"CAST({Ident(c)} AS VARCHAR) AS {Ident(c)}"))}
                    FROM read_parquet({Literal(captured)}, file_row_number = true)
                    """);
                return (cols, null);
            default:
                return (LoadJsonLines(source, table), null);
        }
    }

    (IReadOnlyList<string> Header, NumberedCsv? Numbered) LoadCsv(RawFile file, string table, string bad, int index)
    {
        Directory.CreateDirectory(workDir);
        var numbered = NumberedCsv.Write(file, file.FullPath, Path.Combine(workDir, $"numbered-{index}.csv"));
        if (numbered.Empty || numbered.Header.Count == 0 || numbered.Header is [""])
        {
            db.Exec($"CREATE TEMP TABLE {table} (_line BIGINT, _malformed VARCHAR, _raw VARCHAR)");
            return ([], null);
        }
        if (numbered.Header.Contains(NumberedCsv.LineColumn))
            throw new CtBuildException($"{file.Name}: the column name '{NumberedCsv.LineColumn}' is reserved by CtBuild's ingest. Rename that column in the file.");
        UseTypedReadIfPossible(numbered.Header);
        if (!numbered.RecordsSpanLines)
        {
            // The common case: every record is one line, numbered in the copy; rejected lines are read
            // from the rejects table once the good rows have been written.
            CreateNumberedView(numbered, table, $"{bad}_rejects");
            return (numbered.Header, numbered);
        }
        File.Delete(numbered.Path);
        return (LoadCsvSpanningLines(file, table, bad), null);
    }

    /// <summary>
    /// Parse straight into the contract's types when every missing marker is a shared one: DuckDB then rejects
    /// a value that does not parse, with its line, and the good rows need no casts.
    /// </summary>
    void UseTypedReadIfPossible(IReadOnlyList<string> header)
    {
        var shared = config.MissingValues.ToHashSet();
        if (header.Where(config.Columns.ContainsKey).All(h => _contract.Markers(h).All(shared.Contains)))
            _contract = new ContractColumns(config, typedSource: true);
    }

    /// <summary>DuckDB's read_csv of the file with the given header, in the contract's types when the read is typed.</summary>
    string ReadCsv(string path, IEnumerable<string> header, string rejects)
    {
        string TypeOf(string h) => h == NumberedCsv.LineColumn ? "BIGINT"
            : _contract.TypedSource && config.Columns.TryGetValue(h, out var c) ? ContractColumns.DuckType(c.Type) : "VARCHAR";
        var columns = "{" + string.Join(", ", header.Select(h => $"{Literal(h)}: {Literal(TypeOf(h))}")) + "}";
        var nulls = _contract.TypedSource ? $", nullstr = [{string.Join(", ", config.MissingValues.DefaultIfEmpty("").Select(Literal))}]" : "";
        return $"""
            read_csv({Literal(path)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
              columns = {columns}{nulls}, store_rejects = true, rejects_table = {Literal(rejects)}, rejects_scan = {Literal(rejects + "_scan")})
            """;
    }

    void CreateNumberedView(NumberedCsv numbered, string view, string rejects) => db.Exec($"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        SELECT {Ident(NumberedCsv.LineColumn)} AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw, * EXCLUDE ({Ident(NumberedCsv.LineColumn)})
        FROM {ReadCsv(numbered.Path, numbered.Header.Prepend(NumberedCsv.LineColumn), rejects)}
        """);

    /// <summary>
    /// Rejected lines are quarantined whole: a value that is not its column's type ("not a valid int"), or a
    /// malformed record (wrong field count, broken quotes, bytes that are not UTF-8). In a numbered copy each
    /// line starts with its number, which is taken off the record.
    /// </summary>
    void InsertRejects(RawFile file, string rejects, string bad, bool fromNumbered)
    {
        var contractTypes = string.Join(" ", config.Columns.Select(c => $"WHEN {Literal(c.Key)} THEN {Literal("not a valid " + c.Value.Type)}"));
        var record = fromNumbered ? "regexp_replace(first(csv_line), '^[0-9]+,', '')" : "first(csv_line)";
        db.Exec($"""
            INSERT INTO {bad}
            SELECT {Literal(file.Name)}, {Literal(file.Sha256)}, line, first(column_name ORDER BY column_idx),
                   CASE WHEN bool_and(error_type = 'CAST') THEN CASE first(column_name ORDER BY column_idx) {contractTypes} ELSE 'malformed record' END
                        ELSE 'malformed record' END,
                   string_agg(DISTINCT error_type || ': ' || error_message, '; '), {record}, {IngestedAt}
            FROM {rejects} GROUP BY line
            """);
    }

    /// <summary>
    /// A file where a quoted field holds a newline: DuckDB numbers rejected rows by record (header = 1), not by
    /// physical line, and the lines of accepted rows come from the record starts found by <see cref="CsvLayout"/>.
    /// The rows are materialised once to number them.
    /// </summary>
    IReadOnlyList<string> LoadCsvSpanningLines(RawFile file, string table, string bad)
    {
        var layout = CsvLayout.Read(file);
        var rejects = $"{table}_rejects";
        db.Exec($"CREATE TEMP TABLE {table}_rows AS SELECT * FROM {ReadCsv(file.FullPath, layout.Header, rejects)}");
        InsertRejects(file, rejects, bad, fromNumbered: false);
        var starts = layout.RecordStartLines!;
        var rejected = db.Query($"SELECT DISTINCT line FROM {rejects}", r => Convert.ToInt64(r.GetValue(0)) - 1).ToHashSet();
        db.Exec($"CREATE TEMP TABLE {table}_lines (_k BIGINT, _record BIGINT, _line BIGINT)");
        using (var appender = db.CreateAppender($"{table}_lines"))
        {
            long k = 0;
            for (var record = 1; record <= starts.Count; record++)
            {
                var row = appender.CreateRow();
                row.AppendValue(rejected.Contains(record) ? (long?)null : ++k).AppendValue((long)record).AppendValue(starts[record - 1]).EndRow();
            }
        }
        db.Exec($"UPDATE {bad} SET line = l._line FROM {table}_lines l WHERE {bad}.line - 1 = l._record");
        db.Exec($"""
            CREATE TEMP VIEW {table} AS
            SELECT coalesce(l._line, -r._k) AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw, r.* EXCLUDE (_k)
            FROM (SELECT rowid + 1 AS _k, * FROM {table}_rows) r LEFT JOIN {table}_lines l USING (_k)
            """);
        return layout.Header;
    }

    IReadOnlyList<string> LoadJsonLines(RawFile file, string table)
    {
        db.Exec($"""
            CREATE TEMP TABLE {table}_lines AS
            SELECT i AS _line, trim(l[i], chr(13)) AS _text
            FROM (SELECT string_split(content, chr(10)) AS l FROM read_text({Literal(file.FullPath)})), range(1, len(l) + 1) t(i)
            WHERE trim(l[i]) <> '' ORDER BY i
            """);
        var keys = db.Query($"""
            SELECT k FROM (SELECT unnest(json_keys(_text)) AS k, _line FROM {table}_lines
                           WHERE CASE WHEN json_valid(_text) THEN json_type(_text) = 'OBJECT' ELSE false END) GROUP BY k ORDER BY min(_line)
            """, r => r.GetString(0)).ToList();
        var fields = keys.Select(k => $"CASE WHEN _ok THEN json_extract_string(_text, {Literal("$." + JsonPathKey(k))}) END AS {Ident(k)}");
        db.Exec($"""
            CREATE TEMP TABLE {table} AS
            SELECT _line, CASE WHEN NOT _ok THEN 'not a JSON object: ' || left(_text, 60) END AS _malformed, _text AS _raw,
                   {string.Join(", ", fields.DefaultIfEmpty("NULL AS _none"))}
            FROM (SELECT *, CASE WHEN json_valid(_text) THEN json_type(_text) = 'OBJECT' ELSE false END AS _ok FROM {table}_lines)
            ORDER BY _line
            """);
        db.Exec($"DROP TABLE {table}_lines");
        return keys;
    }

    static string JsonPathKey(string key) => key.All(c => char.IsLetterOrDigit(c) || c == '_') ? key : "\"" + key.Replace("\"", "\\\"") + "\"";
}
