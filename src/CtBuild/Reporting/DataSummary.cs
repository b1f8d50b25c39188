namespace CtBuild.Reporting;

/// <summary>The data the run trained and tested on.</summary>
/// <param name="Drift">Per-column drift against the previous run's data; empty on a first run.</param>
public sealed record DataSummary(
    IReadOnlyList<TableVersionUsed> Tables,
    IReadOnlyList<SplitCounts> Splits,
    long RowsQuarantined,
    IReadOnlyList<QuarantineReason> QuarantineReasons,
    IReadOnlyList<ColumnDrift> Drift)
{
    /// <summary>Deliveries in the raw version used where a contract column is missing in every row (a broken export, usually).</summary>
    public IReadOnlyList<EmptyColumns> EmptyColumns { get; init; } = [];
}

/// <summary>Contract columns that were empty in every row of one delivered file.</summary>
public sealed record EmptyColumns(string File, IReadOnlyList<string> Columns);

/// <summary>A lake table version the run read, with its row count.</summary>
public sealed record TableVersionUsed(string Table, long Version, long Rows);

/// <summary>Rows and positive labels in one split ("train", "valid", "test").</summary>
public sealed record SplitCounts(string Split, long Rows, long Positives)
{
    /// <summary>Share of rows with a positive label.</summary>
    public double PositiveRate => Rows == 0 ? 0 : (double)Positives / Rows;
}

/// <summary>Why rows were quarantined at ingest, and how many.</summary>
public sealed record QuarantineReason(string Reason, long Count);

/// <summary>Drift of one column against the previous run's data.</summary>
/// <param name="Kind">"numeric" or "categorical".</param>
/// <param name="Psi">Population stability index.</param>
/// <param name="MeanBefore">Mean before (numeric columns only).</param>
/// <param name="Flagged">True when the PSI crossed the drift threshold.</param>
public sealed record ColumnDrift(string Column, string Kind, double Psi, double? MeanBefore, double? MeanAfter, bool Flagged);
