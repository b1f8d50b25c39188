using CtBuild.Lake;
using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Training;

/// <summary>
/// One row as ML.NET sees it: the label and two vectors (numeric and categorical features in signature order).
/// A fixed row type lets any dataset be trained and any saved model be scored without generated classes.
/// </summary>
public sealed class ModelInputRow
{
    public bool Label { get; set; }
    public float[] Numeric { get; set; } = [];
    public string[] Categorical { get; set; } = [];
}

/// <summary>Rows of one split, read from a lake snapshot, ready for ML.NET.</summary>
public sealed record ModelInput(IReadOnlyList<ModelInputRow> Rows, FeatureSignature Signature)
{
    /// <summary>Each row's key (the split key, or an md5 of the whole row without one), in row order: what the
    /// gate checks to know that two models scored the same rows in the same order.</summary>
    public IReadOnlyList<string> RowKeys { get; init; } = [];

    public const string MissingCategory = "(missing)";

    public bool[] Labels => Rows.Select(r => r.Label).ToArray();

    public IDataView ToDataView(MLContext ml)
    {
        var schema = SchemaDefinition.Create(typeof(ModelInputRow));
        schema[nameof(ModelInputRow.Numeric)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Math.Max(1, Signature.Numeric.Count));
        schema[nameof(ModelInputRow.Categorical)].ColumnType = new VectorDataViewType(TextDataViewType.Instance, Math.Max(1, Signature.Categorical.Count));
        return ml.Data.LoadFromEnumerable(Rows, schema);
    }

    /// <summary>Reads the rows of <paramref name="split"/> (all rows when null), ordered by key so every run sees the same order.</summary>
    public static ModelInput Load(DuckDBConnection db, DeltaSnapshot snapshot, FeatureSignature signature, string? split, string? key)
    {
        var missing = signature.MissingFrom(snapshot.Schema.Select(f => f.Name).Append(signature.Label));
        if (missing.Count > 0)
            throw new CtBuildException($"The table at version {snapshot.Version} lacks the model's input column(s) {string.Join(", ", missing)}.");
        var numeric = signature.Numeric.Select(n => $"CAST({Ident(n)} AS FLOAT)");
        var categorical = signature.Categorical.Select(c => $"coalesce(CAST({Ident(c)} AS VARCHAR), {Literal(MissingCategory)})");
        var order = OrderBy(snapshot, key);
        var select = string.Join(", ", new[] { $"CAST({Ident(signature.Label)} AS BOOLEAN)" }.Concat(numeric).Concat(categorical)
            .Append($"CAST({order} AS VARCHAR)"));
        var where = split is null ? "" : $"WHERE {LakeTables.SplitColumn} = {Literal(split)}";
        var nNum = signature.Numeric.Count;
        var nCat = signature.Categorical.Count;
        var keys = new List<string>();
        var rows = db.Query($"SELECT {select} FROM {snapshot.ToDuckDbSql()} t {where} ORDER BY {order}", r =>
        {
            keys.Add(r.IsDBNull(1 + nNum + nCat) ? "" : r.GetString(1 + nNum + nCat));
            var row = new ModelInputRow { Label = r.GetBoolean(0), Numeric = new float[Math.Max(1, nNum)], Categorical = new string[Math.Max(1, nCat)] };
            for (var i = 0; i < nNum; i++) row.Numeric[i] = r.IsDBNull(1 + i) ? float.NaN : r.GetFloat(1 + i);
            for (var i = 0; i < nCat; i++) row.Categorical[i] = r.GetString(1 + nNum + i);
            if (nCat == 0) row.Categorical[0] = "";
            return row;
        });
        return new ModelInput(rows, signature) { RowKeys = keys };
    }

    /// <summary>The order rows are read in: by the key when the table has it, else by an md5 of the whole row (aliased <c>t</c>).</summary>
    public static string OrderBy(DeltaSnapshot snapshot, string? key) =>
        key is not null && snapshot.Schema.Any(f => f.Name == key) ? Ident(key) : "md5(CAST(t AS VARCHAR))";
}
