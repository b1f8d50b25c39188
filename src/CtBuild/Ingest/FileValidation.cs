using CtBuild.Configuration;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest;

/// <summary>What validating one raw file produced: temp tables of good rows and of quarantined rows.</summary>
public sealed record FileValidationResult(RawFile File, string GoodTable, string BadTable, long GoodRows, long BadRows,
    IReadOnlyList<string> DroppedColumns, IReadOnlyList<string> MissingColumns)
{
    public long TotalRows => GoodRows + BadRows;
    public double BadFraction => TotalRows == 0 ? 0 : (double)BadRows / TotalRows;
}

/// <summary>
/// Reads one raw file into DuckDB as text, checks every row against the contract, and splits the rows
/// into a table of typed good rows and a quarantine table (file, line, column, reason, the record itself).
/// Every input row lands in exactly one of the two.
/// </summary>
public sealed class FileValidation(DuckDBConnection db, IngestConfig config, DateTimeOffset ingestedAt)
{
    ContractColumns _contract = new(config);

    public const string QuarantineColumns =
        "source_file VARCHAR, source_sha256 VARCHAR, line BIGINT, \"column\" VARCHAR, rule VARCHAR, reason VARCHAR, record VARCHAR, ingested_at TIMESTAMPTZ";

    public FileValidationResult Validate(RawFile file, int index)
    {
        var text = $"src_{index}";
        var bad = $"bad_{index}";
        var good = $"good_{index}";
        db.Exec($"CREATE OR REPLACE TEMP TABLE {bad} ({QuarantineColumns})");
        _contract = new ContractColumns(config); // a CSV read may switch to typed; every file starts untyped
        var header = LoadAsText(file, text, bad);
        var rejected = db.Scalar<long>($"SELECT count(*) FROM {bad}");
        var (dropped, missing) = CheckSchema(file, header);

        var (vColumn, vRule, vReason) = _contract.FirstViolation();
        var source = $"{Literal(file.Name)}, {Literal(file.Sha256)}";
        // With its zone: a naive TIMESTAMP would make the lake writer rewrite the file to store it as UTC.
        var at = $"TIMESTAMPTZ {Literal(ingestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff") + "+00")}";
        var record = header.Count == 0 ? "NULL::VARCHAR"
            : "coalesce(_raw, to_json(struct_pack(" + string.Join(", ", header.Select(h => $"{Ident(h)} := {Ident(h)}")) + "))::VARCHAR)";
        // Views, not tables: the text is scanned once for the (few) bad rows and once as the good rows are
        // written to Parquet, instead of materialising every row two more times. The record's JSON is
        // built only for bad rows.
        db.Exec($"""
            CREATE OR REPLACE TEMP VIEW judged_{index} AS
            SELECT *, {string.Join("", _contract.Names.Where(n => !header.Contains(n)).Select(m => $"NULL::{(_contract.TypedSource ? ContractColumns.DuckType(config.Columns[m].Type) : "VARCHAR")} AS {Ident(m)}, "))}
                   CASE WHEN _malformed IS NOT NULL THEN NULL ELSE {vColumn} END AS _bad_column,
                   CASE WHEN _malformed IS NOT NULL THEN 'malformed record' ELSE {vRule} END AS _bad_rule,
                   CASE WHEN _malformed IS NOT NULL THEN _malformed ELSE {vReason} END AS _bad_reason
            FROM {text}
            """);
        db.Exec($"""
            INSERT INTO {bad} SELECT {source}, _line, _bad_column, _bad_rule, _bad_reason, {record}, {at}
            FROM judged_{index} WHERE _bad_reason IS NOT NULL
            """);
        var typed = _contract.Names.Select(n => $"{_contract.Typed(n)} AS {Ident(n)}");
        db.Exec($"""
            CREATE OR REPLACE TEMP VIEW {good} AS
            SELECT {string.Join(", ", typed)}, {Literal(file.Name)} AS _source_file, {Literal(file.Sha256)} AS _source_sha256,
                   _line AS _source_line, {at} AS _ingested_at
            FROM judged_{index} WHERE _bad_reason IS NULL
            """);
        // Rejected lines never reached the text table; the other bad rows are part of it.
        var badRows = db.Scalar<long>($"SELECT count(*) FROM {bad}");
        var goodRows = db.Scalar<long>($"SELECT count(*) FROM {text}") - (badRows - rejected);
        return new FileValidationResult(file, good, bad, goodRows, badRows, dropped, missing);
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

    /// <summary>Loads the file as text columns plus <c>_line</c> and <c>_malformed</c>; rows DuckDB cannot parse go to quarantine.</summary>
    IReadOnlyList<string> LoadAsText(RawFile file, string table, string bad)
    {
        switch (file.Format)
        {
            case RawFormat.Csv:
            case RawFormat.CsvGzip:
                return LoadCsv(file, table, bad);
            case RawFormat.Parquet:
                var cols = db.Query($"DESCRIBE SELECT * FROM read_parquet({Literal(file.FullPath)})", r => r.GetString(0)).ToList();
                db.Exec($"""
                    CREATE TEMP VIEW {table} AS SELECT file_row_number + 1 AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw,
                      {string.Join(", ", cols.Select(c => $"CAST({Ident(c)} AS VARCHAR) AS {Ident(c)}"))}
                    FROM read_parquet({Literal(file.FullPath)}, file_row_number = true)
                    """);
                return cols;
            default:
                return LoadJsonLines(file, table);
        }
    }

    IReadOnlyList<string> LoadCsv(RawFile file, string table, string bad)
    {
        var layout = CsvLayout.Read(file);
        if (layout.Empty || layout.Header.Count == 0 || layout.Header is [""])
        {
            db.Exec($"CREATE TEMP TABLE {table} (_line BIGINT, _malformed VARCHAR, _raw VARCHAR)");
            return [];
        }
        var rejects = $"{table}_rejects";
        // Parse straight into the contract's types when every missing marker is a shared one: DuckDB then
        // rejects a value that does not parse, with its line, and keeps a typed (smaller) copy of the rows.
        var shared = config.MissingValues.ToHashSet();
        var typed = layout.Header.Where(config.Columns.ContainsKey).All(h => _contract.Markers(h).All(shared.Contains));
        if (typed) _contract = new ContractColumns(config, typedSource: true);
        string TypeOf(string h) => typed && config.Columns.TryGetValue(h, out var c) ? ContractColumns.DuckType(c.Type) : "VARCHAR";
        var columns = "{" + string.Join(", ", layout.Header.Select(h => $"{Literal(h)}: {Literal(TypeOf(h))}")) + "}";
        var nulls = typed ? $", nullstr = [{string.Join(", ", config.MissingValues.DefaultIfEmpty("").Select(Literal))}]" : "";
        db.Exec($"""
            CREATE TEMP TABLE {table}_rows AS SELECT * FROM read_csv({Literal(file.FullPath)}, header = true, auto_detect = false,
              delim = ',', quote = '"', escape = '"', columns = {columns}{nulls}, store_rejects = true,
              rejects_table = {Literal(rejects)}, rejects_scan = {Literal(rejects + "_scan")})
            """);
        // Rejected lines are quarantined whole: a value that is not its column's type ("not a valid int"),
        // or a malformed record (wrong field count, broken quotes, bytes that are not UTF-8).
        var contractTypes = string.Join(" ", config.Columns.Select(c => $"WHEN {Literal(c.Key)} THEN {Literal("not a valid " + c.Value.Type)}"));
        db.Exec($"""
            INSERT INTO {bad}
            SELECT {Literal(file.Name)}, {Literal(file.Sha256)}, line, first(column_name ORDER BY column_idx),
                   CASE WHEN bool_and(error_type = 'CAST') THEN CASE first(column_name ORDER BY column_idx) {contractTypes} ELSE 'malformed record' END
                        ELSE 'malformed record' END,
                   string_agg(DISTINCT error_type || ': ' || error_message, '; '), first(csv_line), now()
            FROM {rejects} GROUP BY line
            """);
        var anyRejected = db.Scalar<long>($"SELECT count(*) FROM {rejects}") > 0;
        if (!layout.RecordsSpanLines && !anyRejected)
        {
            // The common case: every record is one line and none was rejected, so row k is on line k + 1.
            db.Exec($"CREATE TEMP VIEW {table} AS SELECT rowid + 2 AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw, * FROM {table}_rows");
        }
        else if (!layout.RecordsSpanLines)
        {
            // Each record is one line: accepted row k is on line k + 1 + (rejected lines before it).
            db.Exec($"""
                CREATE TEMP TABLE {table}_gaps AS
                SELECT g, max(j) AS j FROM (
                  SELECT line - row_number() OVER (ORDER BY line) AS g, row_number() OVER (ORDER BY line) AS j
                  FROM (SELECT DISTINCT line FROM {rejects})) GROUP BY g
                """);
            db.Exec($"""
                CREATE TEMP VIEW {table} AS
                SELECT r._k + 1 + coalesce(g.j, 0) AS _line, NULL::VARCHAR AS _malformed, NULL::VARCHAR AS _raw, r.* EXCLUDE (_k)
                FROM (SELECT rowid + 1 AS _k, * FROM {table}_rows) r ASOF LEFT JOIN {table}_gaps g ON r._k + 1 > g.g
                """);
        }
        else
        {
            // DuckDB numbers rejected rows by record (header = 1), not by physical line: map both through the scan.
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
        }
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
