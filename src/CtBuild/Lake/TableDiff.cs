using System.Globalization;
using DuckDB.NET.Data;

namespace CtBuild.Lake;

/// <summary>A column added, removed or retyped between two snapshots.</summary>
public sealed record SchemaChange(string Column, string Change, string? TypeA, string? TypeB);

/// <summary>How a column's drift is measured: quantile bins (numeric) or categories (string, boolean).</summary>
public enum DriftKind { Numeric, Categorical }

/// <summary>
/// Drift of one column from snapshot A to B. <see cref="Psi"/> is the population stability index;
/// quantiles are p25, p50, p75 (numeric columns only). Nulls are left out of every figure.
/// </summary>
public sealed record ColumnDrift(string Name, DriftKind Kind, double Psi, double? MeanA, double? MeanB,
    IReadOnlyList<double>? QuantilesA, IReadOnlyList<double>? QuantilesB)
{
    /// <summary>PSI ≥ 0.2: the usual "significant shift" threshold.</summary>
    public bool Flagged => Psi >= TableDiff.FlagThreshold;
}

/// <summary>What changed between two snapshots of a table (or of two tables).</summary>
public sealed record TableDifference(long VersionA, long VersionB, long RowsA, long RowsB,
    IReadOnlyList<SchemaChange> SchemaChanges, IReadOnlyList<ColumnDrift> Drift);

/// <summary>Compares two snapshots: schema changes, row counts and per-column drift (PSI).</summary>
public static class TableDiff
{
    public const double FlagThreshold = 0.2;
    /// <summary>Stands in for an empty bin's share so the PSI stays finite.</summary>
    public const double Epsilon = 1e-4;
    private const int NumericBins = 10;
    private const int TopCategories = 20;

    /// <summary>
    /// Compares <paramref name="a"/> with <paramref name="b"/>. Columns in <paramref name="noDrift"/> (lineage
    /// such as the source file, which differs between deliveries by design) get schema checks but no drift.
    /// </summary>
    public static TableDifference Compare(DuckDBConnection connection, DeltaSnapshot a, DeltaSnapshot b, IReadOnlyCollection<string>? noDrift = null)
    {
        var changes = new List<SchemaChange>();
        var drift = new List<ColumnDrift>();
        foreach (var fa in a.Schema)
        {
            var fb = b.Schema.FirstOrDefault(f => f.Name.Equals(fa.Name, StringComparison.OrdinalIgnoreCase));
            if (fb is null) changes.Add(new SchemaChange(fa.Name, "removed", fa.DeltaType, null));
            else if (fb.DeltaType != fa.DeltaType) changes.Add(new SchemaChange(fa.Name, "type changed", fa.DeltaType, fb.DeltaType));
            else if (noDrift?.Contains(fa.Name) == true) continue;
            else if (IsNumeric(fa.DeltaType)) drift.Add(NumericDrift(connection, fa.Name, a.ToDuckDbSql(), b.ToDuckDbSql()));
            else if (fa.DeltaType is "string" or "boolean") drift.Add(CategoricalDrift(connection, fa.Name, a.ToDuckDbSql(), b.ToDuckDbSql()));
        }
        foreach (var fb in b.Schema.Where(fb => !a.Schema.Any(fa => fa.Name.Equals(fb.Name, StringComparison.OrdinalIgnoreCase))))
            changes.Add(new SchemaChange(fb.Name, "added", null, fb.DeltaType));

        long Count(DeltaSnapshot s) => Convert.ToInt64(DuckDbQuery.Scalar(connection, $"SELECT count(*) FROM {s.ToDuckDbSql()}"), CultureInfo.InvariantCulture);
        return new TableDifference(a.Version, b.Version, Count(a), Count(b), changes, drift);
    }

    /// <summary>PSI = Σ (pB − pA)·ln(pB / pA) over bins, with shares from counts and <see cref="Epsilon"/> for empty bins.</summary>
    public static double Psi(IReadOnlyList<long> countsA, IReadOnlyList<long> countsB)
    {
        double totalA = countsA.Sum(), totalB = countsB.Sum();
        double psi = 0;
        for (int i = 0; i < countsA.Count; i++)
        {
            var pa = totalA == 0 || countsA[i] == 0 ? Epsilon : countsA[i] / totalA;
            var pb = totalB == 0 || countsB[i] == 0 ? Epsilon : countsB[i] / totalB;
            psi += (pb - pa) * Math.Log(pb / pa);
        }
        return psi;
    }

    private static bool IsNumeric(string deltaType) =>
        deltaType is "long" or "integer" or "short" or "byte" or "float" or "double" || deltaType.StartsWith("decimal", StringComparison.Ordinal);

    private static ColumnDrift NumericDrift(DuckDBConnection connection, string column, string sqlA, string sqlB)
    {
        var x = $"CAST({DeltaSchema.Quote(column)} AS DOUBLE)";
        (double? Mean, List<double>? Quantiles) Describe(string sql)
        {
            var row = DuckDbQuery.Rows(connection, $"SELECT avg({x}), quantile_cont({x}, [0.25, 0.5, 0.75]) FROM {sql}")[0];
            return (row[0] is null ? null : Convert.ToDouble(row[0], CultureInfo.InvariantCulture),
                row[1] is System.Collections.IEnumerable q ? q.Cast<object>().Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToList() : null);
        }
        var (meanA, quantilesA) = Describe(sqlA);
        var (meanB, quantilesB) = Describe(sqlB);

        // Bin edges are A's deciles: bin i holds values in (edge[i-1], edge[i]].
        var cuts = string.Join(", ", Enumerable.Range(1, NumericBins - 1).Select(i => (i / (double)NumericBins).ToString("0.0", CultureInfo.InvariantCulture)));
        var edgesValue = DuckDbQuery.Scalar(connection, $"SELECT quantile_cont({x}, [{cuts}]) FROM {sqlA}");
        var psi = double.NaN;
        if (edgesValue is System.Collections.IEnumerable edgesList)
        {
            var edges = edgesList.Cast<object>().Select(v => Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToList();
            var bin = "CASE " + string.Concat(edges.Select((e, i) => $"WHEN {x} <= {e.ToString("R", CultureInfo.InvariantCulture)} THEN {i} ")) + $"ELSE {edges.Count} END";
            psi = Psi(BinCounts(connection, sqlA, bin, x, NumericBins), BinCounts(connection, sqlB, bin, x, NumericBins));
        }
        return new ColumnDrift(column, DriftKind.Numeric, psi, meanA, meanB, quantilesA, quantilesB);
    }

    private static ColumnDrift CategoricalDrift(DuckDBConnection connection, string column, string sqlA, string sqlB)
    {
        var x = $"CAST({DeltaSchema.Quote(column)} AS VARCHAR)";
        var top = DuckDbQuery.Rows(connection,
                $"SELECT {x} AS v FROM {sqlA} WHERE v IS NOT NULL GROUP BY v ORDER BY count(*) DESC, v LIMIT {TopCategories}")
            .Select(r => (string)r[0]!).ToList();
        // Bucket i is the i-th top category of A; the last bucket is "other".
        var bin = "CASE " + string.Concat(top.Select((v, i) => $"WHEN {x} = {DeltaSchema.Literal(v)} THEN {i} ")) + $"ELSE {top.Count} END";
        var psi = Psi(BinCounts(connection, sqlA, bin, x, top.Count + 1), BinCounts(connection, sqlB, bin, x, top.Count + 1));
        return new ColumnDrift(column, DriftKind.Categorical, psi, null, null, null, null);
    }

    private static long[] BinCounts(DuckDBConnection connection, string sql, string binExpression, string valueExpression, int bins)
    {
        var counts = new long[bins];
        foreach (var row in DuckDbQuery.Rows(connection,
                     $"SELECT {binExpression} AS bin, count(*) FROM {sql} WHERE {valueExpression} IS NOT NULL GROUP BY bin"))
            counts[Convert.ToInt32(row[0], CultureInfo.InvariantCulture)] = Convert.ToInt64(row[1], CultureInfo.InvariantCulture);
        return counts;
    }
}
