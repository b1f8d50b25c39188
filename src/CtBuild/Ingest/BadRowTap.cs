using System.Collections.Concurrent;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest;

/// <summary>
/// Catches the rows that break a rule while the good rows stream to Parquet, so a file is read once however
/// dirty it is. The good-row query filters with <c>CASE WHEN good THEN true ELSE ctb_quarantine(row) END</c>:
/// DuckDB evaluates the ELSE branch only for the rows that reach it, and the function (volatile, so it is never
/// folded or repeated) keeps each one's quarantine row as JSON and answers false. Ingest then checks that good
/// and bad rows add up to the lines the file has, so a row that slipped past would stop the commit.
/// </summary>
public sealed class BadRowTap
{
    public const string Function = "ctb_quarantine";

    readonly ConcurrentQueue<string> _rows = new();

    public BadRowTap(DuckDBConnection db) =>
        db.RegisterScalarFunction<string, bool>(Function, (readers, writer, count) =>
        {
            for (ulong i = 0; i < count; i++)
            {
                _rows.Enqueue(readers[0].GetValue<string>(i));
                writer.WriteValue(false, i);
            }
        }, new ScalarFunctionOptions { IsPureFunction = false }, false);

    /// <summary>The filter that keeps good rows and taps the others; <paramref name="badRowJson"/> is evaluated for bad rows only.</summary>
    public static string Filter(string isGood, string badRowJson) => $"CASE WHEN {isGood} THEN true ELSE {Function}(({badRowJson})::VARCHAR) END";

    /// <summary>Moves the rows caught so far into <paramref name="table"/> (one VARCHAR column of JSON).</summary>
    public long Drain(DuckDBConnection db, string table)
    {
        db.Exec($"CREATE OR REPLACE TEMP TABLE {table} (j VARCHAR)");
        long n = 0;
        using var appender = db.CreateAppender(table);
        while (_rows.TryDequeue(out var row)) { appender.CreateRow().AppendValue(row).EndRow(); n++; }
        return n;
    }

    /// <summary>Forgets what a failed query caught.</summary>
    public void Clear() => _rows.Clear();

}
