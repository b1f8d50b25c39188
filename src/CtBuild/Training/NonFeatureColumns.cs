using CtBuild.Lake;

namespace CtBuild.Training;

/// <summary>A column of the splits table that the model does not learn from, and why (for the Tune log and the model card).</summary>
public sealed record NonFeatureColumn(string Name, string Reason);

/// <summary>
/// The columns that are not features: the split column, the split key (it identifies rows, it does not describe
/// them), the columns in <c>features.exclude</c> and Ingest's lineage columns (where and when a row was delivered).
/// </summary>
public static class NonFeatureColumns
{
    public static IReadOnlyList<NonFeatureColumn> Of(IReadOnlyList<DeltaField> schema, IEnumerable<string> exclude, string? splitKey, string splitColumn)
    {
        var excluded = exclude.ToHashSet(StringComparer.Ordinal);
        var lineage = Ingest.FileValidation.LineageColumns.ToHashSet(StringComparer.Ordinal);
        var result = new List<NonFeatureColumn>();
        foreach (var f in schema)
        {
            if (f.Name == splitColumn) result.Add(new(f.Name, "the split"));
            else if (f.Name == splitKey) result.Add(new(f.Name, "split.key"));
            else if (excluded.Contains(f.Name)) result.Add(new(f.Name, "features.exclude"));
            else if (lineage.Contains(f.Name)) result.Add(new(f.Name, "Ingest lineage"));
        }
        return result;
    }

    /// <summary>"record_id (split.key), _source_line (Ingest lineage)"; the split column goes without saying.</summary>
    public static string Describe(IReadOnlyList<NonFeatureColumn> columns) =>
        string.Join(", ", columns.Where(c => c.Reason != "the split").Select(c => $"{c.Name} ({c.Reason})"));
}
