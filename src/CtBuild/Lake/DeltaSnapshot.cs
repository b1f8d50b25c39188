using System.Globalization;
using System.Text;

namespace CtBuild.Lake;

/// <summary>A live data file of a snapshot. <see cref="NumRecords"/> comes from stats, else the parquet footer, else null.</summary>
public sealed record DeltaFile(string Path, long Size, long? NumRecords,
    IReadOnlyDictionary<string, string?> PartitionValues, long ModificationTime, string LogPath);

/// <summary>
/// A table as of one version: its schema, partitioning and live files. Read its rows with
/// <see cref="ToDuckDbSql"/>.
/// </summary>
public sealed record DeltaSnapshot(string Folder, long Version, DateTimeOffset Timestamp, IReadOnlyList<DeltaField> Schema,
    IReadOnlyList<string> PartitionColumns, IReadOnlyList<DeltaFile> Files, string MetadataId,
    DeltaCommitInfo? CommitInfo, IReadOnlyDictionary<string, string> Configuration)
{
    /// <summary>Sum of the files' row counts (stats or footers); files with unknown counts count 0.</summary>
    public long RowCount => Files.Sum(f => f.NumRecords ?? 0);

    /// <summary>Total bytes of the live files, as recorded in the log.</summary>
    public long SizeInBytes => Files.Sum(f => f.Size);

    /// <summary>
    /// A DuckDB table expression selecting exactly this snapshot's rows: data columns by name (null when a
    /// file lacks one), partition columns from the log with their Delta types. Timestamps read as
    /// TIMESTAMPTZ; a parquet timestamp without a UTC flag (e.g. Spark INT96) is read in the session zone
    /// (UTC on a default DuckDB connection). Partition timestamps without a zone are taken as UTC, as
    /// Delta Kernel does.
    /// </summary>
    public string ToDuckDbSql()
    {
        var partitions = new HashSet<string>(PartitionColumns, StringComparer.OrdinalIgnoreCase);
        var dataColumns = Schema.Where(f => !partitions.Contains(f.Name)).ToList();
        var partitionFields = Schema.Where(f => partitions.Contains(f.Name)).ToList();

        // A 0-row relation with every column first, so UNION BY NAME gives a column even when no file has it.
        var inner = new StringBuilder("SELECT ");
        inner.Append(string.Join(", ", Schema.Select(f => "NULL AS " + DeltaSchema.Quote(f.Name))));
        inner.Append(" WHERE false");
        foreach (var group in Files.GroupBy(f => PartitionKey(f, partitionFields)))
        {
            inner.Append("\n  UNION ALL BY NAME SELECT *");
            var sample = group.First();
            foreach (var p in partitionFields)
                inner.Append(", ").Append(PartitionLiteral(p, sample.PartitionValues.GetValueOrDefault(p.Name)))
                    .Append(" AS ").Append(DeltaSchema.Quote(p.Name));
            inner.Append(" FROM read_parquet(").Append(DuckDbQuery.ListLiteral(group.Select(f => f.Path)))
                .Append(", union_by_name=true, hive_partitioning=false)");
        }
        var select = string.Join(", ", Schema.Select(f => ColumnExpression(f) + " AS " + DeltaSchema.Quote(f.Name)));
        if (Schema.Count == 0) select = "*";
        return $"(SELECT {select} FROM (\n  {inner}\n))";
    }

    private static string ColumnExpression(DeltaField field)
    {
        var duckType = DeltaSchema.ToDuckDb(field.DeltaType);
        var column = DeltaSchema.Quote(field.Name);
        return duckType is null ? column : $"CAST({column} AS {duckType})";
    }

    private static string PartitionKey(DeltaFile file, IReadOnlyList<DeltaField> partitionFields) =>
        string.Join("\u0001", partitionFields.Select(p => file.PartitionValues.GetValueOrDefault(p.Name) ?? "\u0000"));

    /// <summary>A partition value string as SQL; JSON null or "" is null, the literal "null" is a string.</summary>
    private static string PartitionLiteral(DeltaField field, string? value)
    {
        if (string.IsNullOrEmpty(value)) return "NULL";
        if (field.DeltaType == "timestamp")
        {
            var styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
            var instant = DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, styles);
            return DeltaSchema.Literal(instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00");
        }
        return DeltaSchema.Literal(value);
    }
}
