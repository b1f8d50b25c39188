using CtBuild.Lake;
using CtBuild.Training;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Evaluation;

/// <summary>Checks that the candidate and the champion are compared on the same test rows.</summary>
public static class TestPairing
{
    const int Named = 5;

    /// <summary>Fails naming the duplicated keys when the split key is not unique in the test split.</summary>
    public static void RequireUniqueKeys(DuckDB.NET.Data.DuckDBConnection db, DeltaSnapshot splits, string? key, TestSnapshotRef where)
    {
        if (key is null || splits.Schema.All(f => f.Name != key)) return;
        var duplicates = db.Query($"""
            SELECT CAST({Ident(key)} AS VARCHAR), count(*) FROM {splits.ToDuckDbSql()}
            WHERE {LakeTables.SplitColumn} = 'test' GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC, 1
            """, r => (Key: r.IsDBNull(0) ? "(null)" : r.GetString(0), Count: Convert.ToInt64(r.GetValue(1))));
        if (duplicates.Count == 0) return;
        var named = string.Join(", ", duplicates.Take(Named).Select(d => $"'{d.Key}' ({d.Count} rows)"));
        throw new CtBuildException(
            $"The split key '{key}' is not unique in the {where}: {duplicates.Count:N0} key(s) repeat, e.g. {named}. " +
            "Rows with the same key have no fixed order, so the candidate and the champion could be scored on rows paired wrongly. " +
            "Make the key unique in the features SQL (or set split.key to a unique column) and run again.");
    }

    /// <summary>Fails when the two models' rows differ in count, key order or labels.</summary>
    public static void RequireSameRows(ModelInput candidate, ModelInput champion, TestSnapshotRef where)
    {
        if (candidate.Rows.Count != champion.Rows.Count)
            throw new CtBuildException($"The candidate was scored on {candidate.Rows.Count:N0} rows of the {where} and the champion on {champion.Rows.Count:N0}: they must score the same rows. Run `ctb evaluate --force`; if it persists, report it.");
        for (int i = 0; i < candidate.Rows.Count; i++)
        {
            if (candidate.RowKeys[i] != champion.RowKeys[i])
                throw new CtBuildException($"Row {i:N0} of the {where} is key '{candidate.RowKeys[i]}' for the candidate but '{champion.RowKeys[i]}' for the champion: the two models must score the same rows in the same order. Check that split.key is unique and run `ctb evaluate --force`.");
            if (candidate.Rows[i].Label != champion.Rows[i].Label)
                throw new CtBuildException($"Row {i:N0} of the {where} (key '{candidate.RowKeys[i]}') has label {candidate.Rows[i].Label} for the candidate but {champion.Rows[i].Label} for the champion: both must be read from the same label column.");
        }
    }

    /// <summary>The values of each segment column for the test rows, in the rows' order (checked by key).</summary>
    public static IReadOnlyDictionary<string, string?[]> LoadSegments(DuckDB.NET.Data.DuckDBConnection db, DeltaSnapshot splits, string? key,
        IReadOnlyList<string> columns, ModelInput test, TestSnapshotRef where)
    {
        var names = splits.Schema.Select(f => f.Name).ToList();
        foreach (var column in columns)
            if (!names.Contains(column))
                throw new ConfigException($"evaluate.segments names '{column}', which is not a column of {LakeTables.Splits} v{splits.Version} (columns: {string.Join(", ", names)}). Output it from the features SQL (add it to features.exclude if it is no feature), or remove it from evaluate.segments.");
        var order = ModelInput.OrderBy(splits, key);
        var select = string.Join(", ", columns.Select(c => $"CAST({Ident(c)} AS VARCHAR)").Prepend($"CAST({order} AS VARCHAR)"));
        var rows = db.Query($"SELECT {select} FROM {splits.ToDuckDbSql()} t WHERE {LakeTables.SplitColumn} = 'test' ORDER BY {order}",
            r => Enumerable.Range(0, columns.Count + 1).Select(i => r.IsDBNull(i) ? null : r.GetString(i)).ToArray());
        if (rows.Count != test.Rows.Count || rows.Where((r, i) => r[0] != test.RowKeys[i]).Any())
            throw new CtBuildException($"The segment values of the {where} do not line up with the scored rows. Run `ctb evaluate --force`.");
        return columns.Select((c, j) => (c, rows.Select(r => r[j + 1]).ToArray())).ToDictionary(x => x.c, x => x.Item2);
    }
}
