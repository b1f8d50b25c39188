using System.Globalization;
using System.IO.Compression;
using CtBuild.Lake;

namespace CtBuild.Init;

/// <summary>What <c>ctb init</c> learned about one column of the data file.</summary>
public sealed record ColumnProfile(
    string Name,
    string Type,
    long Rows,
    long Missing,
    long Distinct,
    IReadOnlyList<string> MissingMarkers,
    IReadOnlyList<string> KeptMarkers,
    IReadOnlyList<string>? LowCardinalityValues)
{
    /// <summary>Every present value is different: an id, a timestamp or free text, not a feature.</summary>
    public bool LooksLikeId => Rows >= 20 && Distinct == Rows - Missing && Missing == 0 && Type is "int" or "string";

    public bool EmptyEverywhere => Missing == Rows;
}

/// <summary>
/// Profiles a data file with DuckDB for <c>ctb init</c>: per column the type (int, double, bool or
/// string), how many values are missing and by which marker, and the distinct values of low-cardinality
/// text. Every value is read as text first, so a marker such as <c>?</c> in a number column does not
/// make DuckDB's sniffer call the column text.
/// </summary>
public static class DataProfile
{
    /// <summary>Markers that mean "missing" in any column.</summary>
    public static readonly IReadOnlyList<string> StrongMarkers = ["?", "NA", "N/A", "n/a", "NaN", "null", "NULL"];

    /// <summary>Markers that are missing in a number column but usually a real category in text ("unknown" job).</summary>
    public static readonly IReadOnlyList<string> WeakMarkers = ["None", "none", "unknown", "Unknown", "-"];

    /// <summary>Text with at most this many distinct values gets an allowed-values list.</summary>
    public const int LowCardinality = 20;

    public static IReadOnlyList<ColumnProfile> Read(string path)
    {
        CheckReadable(path);
        using var db = DuckDbQuery.OpenInMemory();
        // A table, not a view: each column's profile scans it several times (a .csv.gz would be re-inflated).
        try { DuckDbQuery.Execute(db, $"CREATE TABLE src AS SELECT * FROM {Reader(path)}"); }
        catch (DuckDB.NET.Data.DuckDBException ex)
        {
            throw new ConfigException($"{path} could not be read as {Kind(path)}: {FirstLine(ex.Message)}. Give a comma-separated CSV with a header line (.csv or .csv.gz), a Parquet file or JSON lines.");
        }
        var names = DuckDbQuery.Rows(db, "SELECT column_name FROM (DESCRIBE src)").Select(r => (string)r[0]!).ToList();
        var rows = Convert.ToInt64(DuckDbQuery.Scalar(db, "SELECT count(*) FROM src"), CultureInfo.InvariantCulture);
        if (rows == 0)
            throw new ConfigException($"{path} has no data rows (only a header, or nothing). Give a file with the rows the model should learn from.");
        return names.Select(n => Column(db, n, rows)).ToList();
    }

    static ColumnProfile Column(DuckDB.NET.Data.DuckDBConnection db, string name, long rows)
    {
        var v = $"trim(CAST({DeltaSchema.Quote(name)} AS VARCHAR))";
        var markers = StrongMarkers.Concat(WeakMarkers).ToList();
        var counts = DuckDbQuery.Rows(db, $"SELECT {v} AS v, count(*) FROM src WHERE {v} IN {InList(markers)} GROUP BY v ORDER BY v")
            .Select(r => ((string)r[0]!, Convert.ToInt64(r[1], CultureInfo.InvariantCulture))).ToList();
        var present = $"{v} IS NOT NULL AND {v} <> '' AND {v} NOT IN {InList(markers)}";
        // DuckDB casts '0.9167' to BIGINT by rounding, so whole numbers are recognised by their digits.
        var stats = DuckDbQuery.Rows(db, $"""
            SELECT count(*) FILTER ({v} IS NULL OR {v} = ''),
                   count(DISTINCT {v}) FILTER ({present}),
                   coalesce(bool_and(regexp_full_match({v}, {WholeNumber})) FILTER ({present}), false),
                   coalesce(bool_and(TRY_CAST({v} AS DOUBLE) IS NOT NULL) FILTER ({present}), false),
                   coalesce(bool_and(lower({v}) IN ('true', 'false')) FILTER ({present}), false),
                   count(DISTINCT {v}) FILTER ({v} IS NOT NULL AND {v} <> '')
            FROM src
            """)[0];
        var empty = Convert.ToInt64(stats[0], CultureInfo.InvariantCulture);
        var distinct = Convert.ToInt64(stats[1], CultureInfo.InvariantCulture);
        var type = distinct == 0 ? "string" : (bool)stats[4]! ? "bool" : (bool)stats[2]! ? "int" : (bool)stats[3]! ? "double" : "string";
        // In numbers every marker is a missing value; in text only the strong ones, the weak ones
        // ("unknown", "None") are kept as a category of their own.
        var missingMarkers = counts.Where(c => type != "string" || StrongMarkers.Contains(c.Item1)).Select(c => c.Item1).ToList();
        var kept = counts.Where(c => !missingMarkers.Contains(c.Item1)).Select(c => c.Item1).ToList();
        var missing = empty + counts.Where(c => missingMarkers.Contains(c.Item1)).Sum(c => c.Item2);
        IReadOnlyList<string>? values = null;
        var textDistinct = Convert.ToInt64(stats[5], CultureInfo.InvariantCulture) - missingMarkers.Count;
        if (type == "string" && textDistinct is > 0 and <= LowCardinality && rows - missing >= 2 * textDistinct)
            values = DuckDbQuery.Rows(db, $"SELECT DISTINCT {v} FROM src WHERE {v} IS NOT NULL AND {v} <> '' AND {(missingMarkers.Count > 0 ? $"{v} NOT IN {InList(missingMarkers)}" : "true")} ORDER BY 1")
                .Select(r => (string)r[0]!).ToList();
        return new ColumnProfile(name, type, rows, missing, type == "string" ? Math.Max(textDistinct, 0) : distinct, missingMarkers, kept, values);
    }

    /// <summary>The distinct present values of a column with their counts, most frequent first.</summary>
    public static IReadOnlyList<(string Value, long Count)> Values(string path, string column, int limit)
    {
        using var db = DuckDbQuery.OpenInMemory();
        DuckDbQuery.Execute(db, $"CREATE VIEW src AS SELECT * FROM {Reader(path)}");
        var v = $"trim(CAST({DeltaSchema.Quote(column)} AS VARCHAR))";
        return DuckDbQuery.Rows(db, $"SELECT {v}, count(*) FROM src WHERE {v} IS NOT NULL AND {v} <> '' AND {v} NOT IN {InList(StrongMarkers)} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {limit}")
            .Select(r => ((string)r[0]!, Convert.ToInt64(r[1], CultureInfo.InvariantCulture))).ToList();
    }

    const string WholeNumber = "'[+-]?[0-9]{1,18}'";

    static string InList(IEnumerable<string> values) => "(" + string.Join(", ", values.Select(DeltaSchema.Literal)) + ")";

    static string Reader(string path)
    {
        var p = DeltaSchema.Literal(path);
        return Kind(path) switch
        {
            "Parquet" => $"read_parquet({p})",
            "JSON lines" => $"read_json({p}, format = 'newline_delimited')",
            // The layout Ingest reads: comma, double quotes; every value as text.
            _ => $"read_csv({p}, header = true, delim = ',', quote = '\"', escape = '\"', all_varchar = true)",
        };
    }

    static string Kind(string path)
    {
        var name = path.ToLowerInvariant();
        if (name.EndsWith(".parquet")) return "Parquet";
        if (name.EndsWith(".jsonl") || name.EndsWith(".ndjson")) return "JSON lines";
        return "CSV";
    }

    /// <summary>Refuses, before DuckDB sees it, a file that is missing, empty or not text (or not Parquet).</summary>
    static void CheckReadable(string path)
    {
        if (!File.Exists(path))
            throw new ConfigException($"The data file {path} does not exist. Pass the path of a CSV, Parquet or JSON-lines file with --data.");
        if (new FileInfo(path).Length == 0)
            throw new ConfigException($"{path} is empty (0 bytes). Give a file with a header line and data rows.");
        var head = new byte[64 * 1024];
        int read;
        using (var file = File.OpenRead(path))
        {
            if (Kind(path) == "Parquet")
            {
                read = file.Read(head, 0, 4);
                if (read < 4 || head[0] != 'P' || head[1] != 'A' || head[2] != 'R' || head[3] != '1')
                    throw new ConfigException($"{path} is named .parquet but is not a Parquet file (no PAR1 magic).");
                return;
            }
            Stream text = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            try { read = text.ReadAtLeast(head, head.Length, throwOnEndOfStream: false); }
            catch (InvalidDataException) { throw new ConfigException($"{path} is named .gz but is not gzip data."); }
        }
        if (read == 0)
            throw new ConfigException($"{path} holds no data once decompressed. Give a file with a header line and data rows.");
        if (Array.IndexOf(head, (byte)0, 0, read) >= 0)
            throw new ConfigException($"{path} is binary (it holds NUL bytes), not a text {Kind(path)} file. Give a comma-separated CSV with a header line, a Parquet file or JSON lines.");
    }

    static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
