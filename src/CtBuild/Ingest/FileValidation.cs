using CtBuild.Configuration;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest;

/// <summary>
/// One raw file read into DuckDB and judged against the contract: <see cref="GoodSql"/> selects its good rows,
/// typed, with their source file, hash and line, and taps the bad ones (<see cref="BadRowTap"/>) as it streams.
/// <see cref="ExpectedRows"/> is how many rows (data lines, for a CSV file: records) the file has; good and
/// quarantined rows must add up to it. <see cref="Numbered"/> is set when the rows are read from a numbered copy of a CSV file.
/// </summary>
public sealed record CheckedFile(RawFile File, string GoodSql, string BadTable, IReadOnlyList<string> DroppedColumns,
    IReadOnlyList<string> MissingColumns, NumberedCsv? Numbered, long ExpectedRows);

/// <summary>
/// A captured file made ready for DuckDB without touching it: for a CSV file, its numbered copy. Preparing needs no
/// connection, so Ingest prepares the next file while DuckDB reads the current one.
/// </summary>
public sealed record PreparedFile(RawFile File, int Index, string Captured, NumberedCsv? Numbered);

/// <summary>What validating one raw file produced: its good row count and a temp table of quarantined rows.</summary>
/// <param name="EmptyColumns">Contract columns the file has but that are missing (NULL) in every good row.</param>
public sealed record FileValidationResult(RawFile File, string BadTable, long GoodRows, long BadRows,
    IReadOnlyList<string> DroppedColumns, IReadOnlyList<string> MissingColumns, IReadOnlyList<string> EmptyColumns)
{
    public long TotalRows => GoodRows + BadRows;
    public double BadFraction => TotalRows == 0 ? 0 : (double)BadRows / TotalRows;
}

/// <summary>
/// Reads one raw file into DuckDB, checks every row against the contract, and splits the rows into good,
/// typed rows and a quarantine table (file, line, column, reason, the record itself). Every input row
/// lands in exactly one of the two, and the file is read once: <see cref="Check"/> makes the query of the good
/// rows, the caller writes them, and the rows that break a rule are caught during that same read; then
/// <see cref="Finish"/> adds the lines DuckDB could not parse and checks that nothing is unaccounted for.
/// </summary>
public sealed class FileValidation
{
    readonly DuckDBConnection db;
    readonly IngestConfig config;
    readonly DateTimeOffset ingestedAt;
    readonly string workDir;
    readonly BadRowTap _tap;
    ContractColumns _contract;
    readonly Dictionary<string, IReadOnlyList<string>> _typedColumns = [];
    readonly HashSet<string> _textInRecord = []; // typed source columns a quarantined record shows as text

    public FileValidation(DuckDBConnection db, IngestConfig config, DateTimeOffset ingestedAt, string workDir)
    {
        (this.db, this.config, this.ingestedAt, this.workDir) = (db, config, ingestedAt, workDir);
        _contract = new ContractColumns(config);
        _tap = new BadRowTap(db);
    }

    /// <summary>The columns added to every good row (see <see cref="Check"/>): where it came from and when it was ingested.</summary>
    public static readonly IReadOnlyList<string> LineageColumns = ["_source_file", "_source_sha256", "_source_line", "_ingested_at"];

    public const string QuarantineColumns =
        "source_file VARCHAR, source_sha256 VARCHAR, line BIGINT, \"column\" VARCHAR, rule VARCHAR, reason VARCHAR, record VARCHAR, ingested_at TIMESTAMPTZ";

    /// <summary>How many parts a plain CSV file is numbered in; null: as <see cref="NumberedCsv"/> decides (one per core for a large file).</summary>
    internal int? Parts { get; init; }

    /// <summary>Prepares <paramref name="captured"/> (the file's captured bytes) for <see cref="Check"/>; safe to call from another thread.</summary>
    public PreparedFile Prepare(RawFile file, int index, string captured)
    {
        if (file.Format == RawFormat.Parquet) return new PreparedFile(file, index, captured, null);
        Directory.CreateDirectory(workDir);
        var target = Path.Combine(workDir, $"numbered-{index}.csv");
        return new PreparedFile(file, index, captured, (file.Format, Parts) switch
        {
            (RawFormat.JsonLines, _) => NumberedJsonLines.Write(captured, target, Parts ?? NumberedCsv.PartsFor(file.Size)),
            (_, { } parts) => NumberedCsv.Write(file, captured, target, parts),
            _ => NumberedCsv.Write(file, captured, target),
        });
    }

    /// <summary>Loads a prepared file into DuckDB and returns the query of its good rows.</summary>
    public CheckedFile Check(PreparedFile prepared)
    {
        var (file, index, captured) = (prepared.File, prepared.Index, prepared.Captured);
        var text = $"src_{index}";
        var bad = $"bad_{index}";
        db.Exec($"CREATE OR REPLACE TEMP TABLE {bad} ({QuarantineColumns})");
        _contract = new ContractColumns(config); // a read may switch columns to typed; every file starts untyped
        _typedColumns.Clear();
        _textInRecord.Clear();
        _tap.Clear();
        var (header, numbered, expected) = LoadAsText(prepared, text, bad);
        if (_typedColumns.Count > 0) _contract = new ContractColumns(config, new Dictionary<string, IReadOnlyList<string>>(_typedColumns));
        var (dropped, missing) = CheckSchema(file, header);

        var checks = _contract.Checks(CleanedName, TypedName);
        var judged = Judged(text, header, checks);
        var typed = _contract.Names.Select(n => $"{TypedName(n)} AS {Ident(n)}");
        var good = $"""
            SELECT {string.Join(", ", typed)}, {Constant(file.Name)} AS _source_file, {Constant(file.Sha256)} AS _source_sha256,
                   _line AS _source_line, {IngestedAt} AS _ingested_at
            FROM ({judged}) WHERE {BadRowTap.Filter("_bad IS NULL", BadRowJson(header, checks))}
            """;
        return new CheckedFile(file, good, bad, dropped, missing, numbered, expected);
    }

    /// <summary>
    /// Completes the quarantine once <paramref name="written"/> (the rows of <see cref="CheckedFile.GoodSql"/>) is
    /// written: the rows the tap caught and, for a CSV file, the lines DuckDB rejected. Refuses the file when good
    /// and bad rows do not add up to the rows it has: a row in neither table is never committed.
    /// </summary>
    public FileValidationResult Finish(CheckedFile check, CtBuild.Lake.DeltaWriter.AddedFile written) =>
        Finish(check, written.Rows, () => EmptyColumns(check, written));

    /// <summary>The same count check for good rows that went somewhere other than a table's data file (e.g. <c>ctb predict</c>); no empty-column check.</summary>
    public FileValidationResult Finish(CheckedFile check, long goodRows) => Finish(check, goodRows, () => []);

    FileValidationResult Finish(CheckedFile check, long goodRows, Func<IReadOnlyList<string>> emptyColumns)
    {
        var bad = check.BadTable;
        var file = check.File;
        if (check.Numbered is not null) InsertRejects(file, $"{bad}_rejects", bad, check.Numbered.Header.Count);
        _tap.Drain(db, $"{bad}_tapped");
        db.Exec($"""
            INSERT INTO {bad}
            SELECT {Literal(file.Name)}, {Literal(file.Sha256)}, (j->>'line')::BIGINT, j->>'column', j->>'rule', j->>'reason', j->>'record', {IngestedAt}
            FROM {bad}_tapped
            """);
        db.Exec($"DROP TABLE {bad}_tapped");
        var badRows = db.Scalar<long>($"SELECT count(*) FROM {bad}");
        if (goodRows + badRows != check.ExpectedRows)
            throw new CtBuildException($"{file.Name}: the file has {check.ExpectedRows} rows but {goodRows} were read as good and {badRows} as bad; " +
                $"{Unaccounted(check)}Nothing was ingested: every row must end up in raw or quarantine. Fix the file and run ingest again, " +
                $"or keep it out of raw with `ctb ingest --quarantine-file {file.Name}`.");
        return new FileValidationResult(file, bad, goodRows, badRows, check.DroppedColumns, check.MissingColumns,
            emptyColumns());
    }

    /// <summary>A query of no rows with the raw table's columns and types.</summary>
    public string NoRowsSql() =>
        $"SELECT {string.Join(", ", _contract.Names.Select(n => $"NULL::{ContractColumns.DuckType(config.Columns[n].Type)} AS {Ident(n)}"))}, " +
        $"NULL::VARCHAR AS _source_file, NULL::VARCHAR AS _source_sha256, NULL::BIGINT AS _source_line, {IngestedAt} AS _ingested_at WHERE false";

    /// <summary>
    /// Puts every row of a file in quarantine and none in raw, for a file the user chose to keep out
    /// (<c>ctb ingest --quarantine-file</c>): a CSV or JSON-lines file line by line (a CSV header excepted),
    /// a Parquet file row by row as JSON.
    /// </summary>
    public FileValidationResult QuarantineWhole(RawFile file, int index, string captured)
    {
        var bad = $"bad_{index}";
        db.Exec($"CREATE OR REPLACE TEMP TABLE {bad} ({QuarantineColumns})");
        const string reason = "the whole file was quarantined with ctb ingest --quarantine-file";
        if (file.Format == RawFormat.Parquet)
            db.Exec($"""
                INSERT INTO {bad} SELECT {Literal(file.Name)}, {Literal(file.Sha256)}, row_number() OVER (), NULL, 'quarantined file', {Literal(reason)},
                  to_json(t)::VARCHAR, {IngestedAt} FROM read_parquet({Literal(captured)}) t
                """);
        else
        {
            using var stream = (file with { FullPath = captured }).OpenText();
            using var appender = db.CreateAppender(bad);
            foreach (var (line, text) in NumberedCsv.Lines(stream, 1))
                if (line > 1 || file.Format == RawFormat.JsonLines)
                    appender.CreateRow().AppendValue(file.Name).AppendValue(file.Sha256).AppendValue(line).AppendNullValue()
                        .AppendValue("quarantined file").AppendValue(reason).AppendValue(text).AppendValue(ingestedAt).EndRow();
        }
        return new FileValidationResult(file, bad, 0, db.Scalar<long>($"SELECT count(*) FROM {bad}"), [], [], []);
    }

    /// <summary>Where the rows went missing, as far as the scan can tell: a quoted field spanning lines is where DuckDB and the scan may part.</summary>
    static string Unaccounted(CheckedFile check) => check.Numbered?.FirstMultiLineRecord is { } line
        ? $"a quoted field that spans lines starts at line {line}: check the quotes from there on. "
        : "";

    /// <summary>Contract columns present in the file but NULL in every good row, from the Parquet footer (no read of the data).</summary>
    IReadOnlyList<string> EmptyColumns(CheckedFile check, CtBuild.Lake.DeltaWriter.AddedFile written)
    {
        if (written.Rows == 0) return [];
        var nulls = db.Query($"""
            SELECT path_in_schema, sum(stats_null_count)::BIGINT FROM parquet_metadata({Literal(written.FullPath)}) GROUP BY ALL
            """, r => (Column: r.GetString(0), Nulls: Convert.ToInt64(r.GetValue(1))));
        return nulls.Where(n => n.Nulls == written.Rows && config.Columns.ContainsKey(n.Column) && !check.MissingColumns.Contains(n.Column))
            .Select(n => n.Column).OrderBy(c => _contract.Names.ToList().IndexOf(c)).ToList();
    }

    /// <summary>
    /// A text that is the same on every row of a file, as a one-value ENUM: DuckDB writes it to Parquet as a
    /// plain dictionary-encoded string (Spark reads a string) without hashing each row's copy of it, which
    /// for the 64-character content hash took a seventh of a large file's ingest.
    /// </summary>
    static string Constant(string text) => $"{Literal(text)}::ENUM({Literal(text)})";

    // With its zone: a naive TIMESTAMP would make the lake writer rewrite the file to store it as UTC.
    string IngestedAt => $"TIMESTAMPTZ {Literal(ingestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff") + "+00")}";

    /// <summary>
    /// The rows of <paramref name="text"/> with each contract column's cleaned and typed value computed once, into
    /// <c>_ctb_clean_i</c> and <c>_ctb_typed_i</c> (i: the column's place in the contract), and <c>_bad</c>: the number of
    /// the first check the row breaks (0 for a malformed record, NULL for a good row). The checks read those columns
    /// instead of repeating the expressions, and the column, rule and reason a number stands for are worked out for the
    /// bad rows only (<see cref="BadRowJson"/>), so a good row costs one pass over the checks.
    /// </summary>
    string Judged(string text, IReadOnlyList<string> header, IReadOnlyList<ContractCheck> checks)
    {
        var names = _contract.Names;
        var missing = names.Where(n => !header.Contains(n))
            .Select(m => $"NULL::{(_contract.IsTyped(m) ? ContractColumns.DuckType(config.Columns[m].Type) : "VARCHAR")} AS {Ident(m)}");
        var cleaned = names.Select((n, i) => $"{_contract.Cleaned(n)} AS _ctb_clean_{i}");
        var casts = names.Select((n, i) => (n, i)).Where(x => TypedIsCast(x.n))
            .Select(x => $", TRY_CAST(_ctb_clean_{x.i} AS {ContractColumns.DuckType(config.Columns[x.n].Type)}) AS _ctb_typed_{x.i}");
        var bad = checks.Count == 0 ? "NULL::INTEGER"
            : "CASE " + string.Join(" ", checks.Select((k, i) => $"WHEN {k.Condition} THEN {i + 1}")) + " END";
        return $"""
            SELECT *, CASE WHEN _malformed IS NOT NULL THEN 0 ELSE {bad} END AS _bad
            FROM (SELECT *{string.Concat(casts)} FROM (SELECT *, {string.Join(", ", missing.Concat(cleaned))} FROM {text}))
            """;
    }

    /// <summary>True when a column's typed value is a cast of its cleaned text (it is not a string, nor read typed).</summary>
    bool TypedIsCast(string column) => config.Columns[column].Type != "string" && !_contract.IsTyped(column);

    string CleanedName(string column) => $"_ctb_clean_{IndexOf(column)}";

    string TypedName(string column) => TypedIsCast(column) ? $"_ctb_typed_{IndexOf(column)}" : CleanedName(column);

    int IndexOf(string column) => _contract.Names.ToList().IndexOf(column);

    /// <summary>A judged bad row as the JSON the tap keeps (line, column, rule, reason, the record as JSON of its fields).</summary>
    string BadRowJson(IReadOnlyList<string> header, IReadOnlyList<ContractCheck> checks)
    {
        string Field(string h) => _textInRecord.Contains(h) ? $"CAST({Ident(h)} AS VARCHAR)" : Ident(h);
        var record = header.Count == 0 ? "NULL::VARCHAR"
            : "coalesce(_raw, to_json(struct_pack(" + string.Join(", ", header.Select(h => $"{Ident(h)} := {Field(h)}")) + "))::VARCHAR)";
        string Pick(Func<ContractCheck, string> of, string malformed) =>
            $"CASE _bad WHEN 0 THEN {malformed} " + string.Concat(checks.Select((k, i) => $"WHEN {i + 1} THEN {of(k)} ")) + "END";
        return $"json_object('line', _line, 'column', {Pick(k => Literal(k.Column), "NULL::VARCHAR")}, 'rule', {Pick(k => Literal(k.Rule), "'malformed record'")}, " +
               $"'reason', {Pick(k => k.Reason, "_malformed")}, 'record', {record})";
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
    /// Loads the file as a view of its columns plus <c>_line</c>, <c>_malformed</c> and <c>_raw</c>, and counts its rows;
    /// rows DuckDB cannot parse go to quarantine when <see cref="Finish"/> runs.
    /// </summary>
    (IReadOnlyList<string> Header, NumberedCsv? Numbered, long Rows) LoadAsText(PreparedFile prepared, string table, string bad)
    {
        var (file, captured) = (prepared.File, prepared.Captured);
        var source = file with { FullPath = captured };
        switch (file.Format)
        {
            case RawFormat.Csv:
            case RawFormat.CsvGzip:
                return LoadCsv(file, prepared.Numbered!, table, bad);
            case RawFormat.Parquet:
                var cols = db.Query($"DESCRIBE SELECT * FROM read_parquet({Literal(captured)})", r => (Name: r.GetString(0), Type: r.GetString(1))).ToList();
                db.Exec($"""
                    CREATE TEMP VIEW {table} AS SELECT file_row_number + 1 AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw,
                      {string.Join(", ", cols.Select(c => $"{ParquetColumn(c.Name, c.Type)} AS {Ident(c.Name)}"))}
                    FROM read_parquet({Literal(captured)}, file_row_number = true)
                    """);
                var rows = db.Scalar<long>($"SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata({Literal(captured)})");
                return (cols.Select(c => c.Name).ToList(), null, rows);
            default:
                var keys = LoadJsonLines(file, prepared.Numbered!, table, $"{bad}_rejects");
                return (keys, prepared.Numbered, prepared.Numbered!.Records);
        }
    }

    /// <summary>
    /// A Parquet column as the contract reads it: as it is when its type already is the contract's (no text round
    /// trip; <see cref="ContractColumns"/> then checks only the value rules on it), else as text, cast and checked
    /// like a CSV field. A quarantined record shows every value as text, as it did when every column went through text.
    /// Picks the typed columns of <see cref="_contract"/> as it goes.
    /// </summary>
    string ParquetColumn(string name, string duckType)
    {
        if (duckType == "VARCHAR") return Ident(name);
        if (!config.Columns.TryGetValue(name, out var column) || column.Type == "string" || !ContractColumns.HoldsContractType(column.Type, duckType))
            return $"CAST({Ident(name)} AS VARCHAR)";
        _typedColumns[name] = _contract.MarkersATypedValueCouldBe(name);
        _textInRecord.Add(name);
        return $"CAST({Ident(name)} AS {ContractColumns.DuckType(column.Type)})";
    }

    (IReadOnlyList<string> Header, NumberedCsv? Numbered, long Rows) LoadCsv(RawFile file, NumberedCsv numbered, string table, string bad)
    {
        if (numbered.Empty || numbered.Header.Count == 0 || numbered.Header is [""])
        {
            db.Exec($"CREATE TEMP TABLE {table} (_line BIGINT, _malformed VARCHAR, _raw VARCHAR)");
            return ([], null, 0);
        }
        if (numbered.Header.Contains(NumberedCsv.LineColumn))
            throw new CtBuildException($"{file.Name}: the column name '{NumberedCsv.LineColumn}' is reserved by CtBuild's ingest. Rename that column in the file.");
        var tail = QuarantineUnterminatedTail(file, numbered, bad);
        UseTypedReadIfPossible(numbered.Header);
        db.Exec($"""
            CREATE OR REPLACE TEMP VIEW {table} AS
            SELECT {Ident(NumberedCsv.LineColumn)} AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw, * EXCLUDE ({Ident(NumberedCsv.LineColumn)})
            FROM {ReadCsv(numbered.Files, numbered.Header.Prepend(NumberedCsv.LineColumn), $"{bad}_rejects")}
            """);
        return (numbered.Header, numbered, numbered.Records + tail);
    }

    /// <summary>
    /// A quote that never closes would swallow the rest of the file into one record (which DuckDB then cuts and
    /// re-syncs somewhere, losing lines). From that record on, every physical line is quarantined as its own row,
    /// and counts against <c>maxBadFraction</c> like any bad row.
    /// </summary>
    long QuarantineUnterminatedTail(RawFile file, NumberedCsv numbered, string bad)
    {
        if (numbered.Unterminated is not { } quote) return 0;
        long n = 0;
        using (var appender = db.CreateAppender(bad))
            foreach (var (line, text) in numbered.TakeUnterminatedTail())
            {
                appender.CreateRow().AppendValue(file.Name).AppendValue(file.Sha256).AppendValue(line).AppendNullValue()
                    .AppendValue("malformed record").AppendValue($"unterminated quote opened at line {quote.OpenedAtLine}")
                    .AppendValue(text).AppendValue(ingestedAt).EndRow();
                n++;
            }
        return n;
    }

    /// <summary>
    /// Parse straight into the contract's types when every missing marker is a shared one: DuckDB then rejects
    /// a value that does not parse, with its line, and the good rows need no casts.
    /// </summary>
    void UseTypedReadIfPossible(IReadOnlyList<string> header)
    {
        var shared = config.MissingValues.ToHashSet();
        if (header.Where(config.Columns.ContainsKey).All(h => _contract.Markers(h).All(shared.Contains)))
            _contract = ContractColumns.ParsedByReader(config);
    }

    /// <summary>DuckDB's read_csv of the file with the given header, in the contract's types when the read is typed.</summary>
    string ReadCsv(IReadOnlyList<string> paths, IEnumerable<string> header, string rejects)
    {
        string TypeOf(string h) => h == NumberedCsv.LineColumn ? "BIGINT"
            : _contract.IsTyped(h) ? ContractColumns.DuckType(config.Columns[h].Type) : "VARCHAR";
        var columns = "{" + string.Join(", ", header.Select(h => $"{Literal(h)}: {Literal(TypeOf(h))}")) + "}";
        var nulls = _contract.AnyTyped ? $", nullstr = [{string.Join(", ", config.MissingValues.DefaultIfEmpty("").Select(Literal))}]" : "";
        return $"""
            read_csv({ListOf(paths)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
              columns = {columns}{nulls}, store_rejects = true, rejects_table = {Literal(rejects)}, rejects_scan = {Literal(rejects + "_scan")})
            """;
    }

    /// <summary>
    /// Rejected lines are quarantined whole, with one reason each: a value that is not its column's type
    /// ("not a valid int"), or a malformed record (wrong field count, broken quotes, bytes that are not UTF-8).
    /// DuckDB may report several errors for one line, and counts the numbered copy's added field; the line
    /// is the number the copy put in front of the record (DuckDB's own line counts within each part of the copy, and
    /// the line DuckDB shows may start with a newline: seen after a blank line).
    /// </summary>
    void InsertRejects(RawFile file, string rejects, string bad, int fields)
    {
        var rows = db.Query($"""
            SELECT coalesce(TRY_CAST(regexp_extract(first(csv_line), '^[\r\n]*-?([0-9]+)[,\x01]', 1) AS BIGINT), line::BIGINT),
                   list(error_type ORDER BY column_idx), list(column_name ORDER BY column_idx), list(error_message ORDER BY column_idx),
                   regexp_replace(first(csv_line), '^[\r\n]*-?[0-9]+[,\x01]', '')
            FROM {rejects} GROUP BY file_id, line ORDER BY file_id, line
            """, r => (Line: Convert.ToInt64(r.GetValue(0)), Types: Strings(r.GetValue(1)), Columns: Strings(r.GetValue(2)),
                Messages: Strings(r.GetValue(3)), Record: r.IsDBNull(4) ? "" : r.GetString(4)));
        using var appender = db.CreateAppender(bad);
        foreach (var row in rows)
        {
            var (column, rule, reason) = RejectReason(row.Types, row.Columns, row.Messages, row.Record, fields);
            var line = appender.CreateRow().AppendValue(file.Name).AppendValue(file.Sha256).AppendValue(row.Line);
            (column is null ? line.AppendNullValue() : line.AppendValue(column))
                .AppendValue(rule).AppendValue(reason).AppendValue(row.Record).AppendValue(ingestedAt).EndRow();
        }
    }

    static string ListOf(IEnumerable<string> paths) => "[" + string.Join(", ", paths.Select(Literal)) + "]";

    static List<string> Strings(object value) => ((System.Collections.IEnumerable)value).Cast<object?>().Select(v => v?.ToString() ?? "").ToList();

    /// <summary>The one reason a rejected line is given: its field count when that is wrong, else its first error.</summary>
    (string? Column, string Rule, string Reason) RejectReason(List<string> types, List<string> columns, List<string> messages, string record, int fields)
    {
        if (fields == 0) // a JSON-lines file: the line's text is one field
            return (null, "malformed record", types.Contains("INVALID UNICODE") || types.Contains("INVALID ENCODING") ? "bytes that are not valid UTF-8" : "not a JSON object");
        if (types.Any(t => t is "MISSING COLUMNS" or "TOO MANY COLUMNS"))
            return (null, "malformed record", $"expected {fields} fields, found {NumberedCsv.FieldCount(record)}");
        if (types.All(t => t == "CAST") && config.Columns.TryGetValue(columns[0], out var c))
            return (columns[0], "not a valid " + c.Type, messages[0]);
        var reason = types[0] switch
        {
            "INVALID ENCODING" or "INVALID UNICODE" => "bytes that are not valid UTF-8",
            "UNQUOTED VALUE" => "a quote inside an unquoted field, or text after a closing quote",
            "LINE SIZE OVER MAXIMUM" => "the record is longer than DuckDB's maximum line size",
            _ => messages[0],
        };
        return (null, "malformed record", reason);
    }

    /// <summary>
    /// A JSON-lines file, read from its numbered copy: the objects by DuckDB's parallel JSON reader, with the line the
    /// numbering wrote into each, and the lines the numbering found not to be one JSON object, as malformed records. A key
    /// is read in its contract type when every value the numbering saw already has it (<see cref="JsonColumn"/>), else as
    /// text, cast and checked as a CSV field is. A quarantined object's record is its values as JSON text.
    /// </summary>
    IReadOnlyList<string> LoadJsonLines(RawFile file, NumberedCsv numbered, string table, string rejects)
    {
        const string LineColumns = "{'_n': 'BIGINT', '_text': 'VARCHAR'}";
        var keys = numbered.JsonKeys;
        if (keys.Contains(NumberedCsv.LineColumn))
            throw new CtBuildException($"{file.Name}: the key '{NumberedCsv.LineColumn}' is reserved by CtBuild's ingest. Rename that key in the file.");
        var types = keys.Select(k => JsonColumn(k, numbered.JsonKinds[k])).ToList();
        var columns = "{" + string.Join(", ", keys.Zip(types, (k, t) => $"{Literal(k)}: {Literal(t)}").Prepend($"{Literal(NumberedCsv.LineColumn)}: 'BIGINT'")) + "}";
        var fields = keys.Select(Ident).ToList();
        var noFields = keys.Zip(types, (k, t) => $"NULL::{t} AS {Ident(k)}").ToList();
        db.Exec($"""
            CREATE TEMP VIEW {table} AS
            SELECT {Ident(NumberedCsv.LineColumn)} AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw{string.Concat(fields.Select(f => ", " + f))}
            FROM read_json({ListOf(numbered.JsonObjects)}, format = 'newline_delimited', columns = {columns})
            UNION ALL
            SELECT _n AS _line, 'not a JSON object: ' || left(rtrim(_text, chr(13)), 60) AS _malformed, rtrim(_text, chr(13)) AS _raw{string.Concat(noFields.Select(f => ", " + f))}
            FROM read_csv({ListOf(numbered.NotObjects)}, header = false, auto_detect = false, delim = {Literal(NumberedJsonLines.LineSeparator.ToString())},
              quote = '', escape = '', columns = {LineColumns}, store_rejects = true,
              rejects_table = {Literal(rejects)}, rejects_scan = {Literal(rejects + "_scan")})
            """);
        return keys;
    }

    /// <summary>
    /// The DuckDB type a JSON-lines key is read as: its contract type when every value the numbering saw already has it
    /// (<see cref="ContractColumns.JsonHoldsContractType"/>), picking the column as typed, else text.
    /// </summary>
    string JsonColumn(string key, JsonValueKinds kinds)
    {
        if (!config.Columns.TryGetValue(key, out var column) || !_contract.JsonHoldsContractType(key, kinds)) return "VARCHAR";
        _typedColumns[key] = _contract.MarkersATypedValueCouldBe(key);
        _textInRecord.Add(key);
        return ContractColumns.DuckType(column.Type);
    }
}
