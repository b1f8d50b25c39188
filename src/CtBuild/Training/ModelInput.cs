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

    public IDataView ToDataView(MLContext ml) => ml.Data.LoadFromEnumerable(Rows, SchemaOf(Signature));

    /// <summary>The row type's schema with the vector sizes of <paramref name="signature"/> (also for a PredictionEngine).</summary>
    public static SchemaDefinition SchemaOf(FeatureSignature signature)
    {
        var schema = SchemaDefinition.Create(typeof(ModelInputRow));
        schema[nameof(ModelInputRow.Numeric)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Math.Max(1, signature.Numeric.Count));
        schema[nameof(ModelInputRow.Categorical)].ColumnType = new VectorDataViewType(TextDataViewType.Instance, Math.Max(1, signature.Categorical.Count));
        return schema;
    }

    /// <summary>Reads the rows of <paramref name="split"/> (all rows when null), ordered by key so every run sees the same order.</summary>
    public static ModelInput Load(DuckDBConnection db, DeltaSnapshot snapshot, FeatureSignature signature, string? split, string? key)
    {
        var missing = signature.MissingFrom(snapshot.Schema.Select(f => f.Name).Append(signature.Label));
        if (missing.Count > 0)
            throw new CtBuildException($"The table at version {snapshot.Version} lacks the model's input column(s) {string.Join(", ", missing)}.");
        var order = OrderBy(snapshot, key);
        var select = $"CAST({Ident(signature.Label)} AS BOOLEAN), {FeaturesSql(signature)}, CAST({order} AS VARCHAR)";
        var where = split is null ? "" : $"WHERE {LakeTables.SplitColumn} = {Literal(split)}";
        var keyColumn = 1 + Math.Max(1, signature.Numeric.Count + signature.Categorical.Count); // FeaturesSql gives at least one column
        var keys = new List<string>();
        var rows = db.Query($"SELECT {select} FROM {snapshot.ToDuckDbSql()} t {where} ORDER BY {order}", r =>
        {
            keys.Add(r.IsDBNull(keyColumn) ? "" : r.GetString(keyColumn));
            var row = ReadFeatures(r, 1, signature);
            row.Label = r.GetBoolean(0);
            return row;
        });
        return new ModelInput(rows, signature) { RowKeys = keys };
    }

    /// <summary>The order rows are read in: by the key when the table has it, else by an md5 of the whole row (aliased <c>t</c>).</summary>
    public static string OrderBy(DeltaSnapshot snapshot, string? key) =>
        key is not null && snapshot.Schema.Any(f => f.Name == key) ? Ident(key) : "md5(CAST(t AS VARCHAR))";

    /// <summary>
    /// The SELECT list that turns feature columns into the model's inputs: numeric as FLOAT (NULL stays missing),
    /// categorical as text with missing as its own category. Training, Evaluate and serving all read rows through it.
    /// </summary>
    public static string FeaturesSql(FeatureSignature signature) => string.Join(", ",
        signature.Numeric.Select(n => $"CAST({Ident(n)} AS FLOAT)")
            .Concat(signature.Categorical.Select(c => $"coalesce(CAST({Ident(c)} AS VARCHAR), {Literal(MissingCategory)})"))
            .DefaultIfEmpty("NULL"));

    /// <summary>Reads the columns of <see cref="FeaturesSql"/> starting at <paramref name="offset"/> into a row (label false).</summary>
    public static ModelInputRow ReadFeatures(System.Data.Common.DbDataReader r, int offset, FeatureSignature signature)
    {
        var nNum = signature.Numeric.Count;
        var nCat = signature.Categorical.Count;
        var row = new ModelInputRow { Numeric = new float[Math.Max(1, nNum)], Categorical = new string[Math.Max(1, nCat)] };
        for (var i = 0; i < nNum; i++) row.Numeric[i] = r.IsDBNull(offset + i) ? float.NaN : r.GetFloat(offset + i);
        for (var i = 0; i < nCat; i++) row.Categorical[i] = r.GetString(offset + nNum + i);
        if (nCat == 0) row.Categorical[0] = "";
        return row;
    }
}
