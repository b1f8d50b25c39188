using CtBuild.Configuration;
using CtBuild.Training;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Serving;

/// <summary>
/// What <c>ctb predict</c> and <c>ctb serve</c> accept: records shaped like the raw data, checked against the
/// data contract without its label (a record to score has none; one sent is ignored), then turned into the
/// model's inputs by the workspace's own features SQL over the view <c>raw</c>, as Features does for training.
/// </summary>
public sealed class PredictionContract
{
    PredictionContract(IngestConfig ingest, string label, string featuresSql, string sqlFile)
    {
        Ingest = ingest;
        LabelColumn = label;
        FeaturesSql = featuresSql;
        SqlFile = sqlFile;
        Columns = ingest.Columns.Keys.ToList();
    }

    /// <summary>The contract without the label column; extra columns are dropped, missing nullable ones are NULL.</summary>
    public IngestConfig Ingest { get; }
    /// <summary>The input columns, in contract order.</summary>
    public IReadOnlyList<string> Columns { get; }
    /// <summary>The raw label column (given to the features SQL as NULL).</summary>
    public string LabelColumn { get; }
    public string FeaturesSql { get; }
    public string SqlFile { get; }
    public string? Key => Ingest.Key;

    public static PredictionContract From(Workspace ws)
    {
        var ingest = ws.Config.Ingest;
        var sqlPath = ws.Resolve(ws.Config.Features.Sql);
        if (!File.Exists(sqlPath))
            throw new ConfigException($"The features SQL file {sqlPath} (features.sql in {ws.ConfigPath}) does not exist; predict turns records into features with it.");
        var columns = ingest.Columns.Where(c => c.Key != ingest.Label.Column).ToDictionary(c => c.Key, c => c.Value);
        return new PredictionContract(ingest with { Columns = columns, SchemaDrift = "dropExtra" }, ingest.Label.Column,
            File.ReadAllText(sqlPath).Trim().TrimEnd(';'), ws.Config.Features.Sql);
    }

    /// <summary>The same contract for rows that are features already (a features or splits table): <c>raw</c> is used as it is.</summary>
    public PredictionContract AsFeatures() => new(Ingest, LabelColumn, "SELECT * FROM raw", SqlFile);

    /// <summary>The view <c>raw</c> over <paramref name="typedRows"/> (typed contract columns), with the label as NULL.</summary>
    public void CreateRawView(DuckDBConnection db, string typedRows, bool hasLabel = false) =>
        db.Exec($"CREATE OR REPLACE TEMP VIEW raw AS {RawSql(typedRows, hasLabel)}");

    /// <summary>What the view <c>raw</c> selects over <paramref name="typedRows"/>.</summary>
    public string RawSql(string typedRows, bool hasLabel = false) =>
        $"SELECT *{(hasLabel ? "" : $", NULL::VARCHAR AS {Ident(LabelColumn)}")} FROM ({typedRows})";

    /// <summary>Fails, naming the columns, when the features SQL over <c>raw</c> does not give every input the model needs.</summary>
    public void CheckSignature(DuckDBConnection db, ServedModel model)
    {
        List<string> outputs;
        try { outputs = db.Query($"DESCRIBE SELECT * FROM ({FeaturesSql})", r => r.GetString(0)); }
        catch (DuckDBException e)
        {
            throw new CtBuildException($"{SqlFile}: the features SQL failed over the records to score: {e.Message}", 1, e);
        }
        var missing = model.Signature.MissingFrom(outputs);
        if (missing.Count > 0)
            throw new CtBuildException(
                $"{model} needs the input column(s) {string.Join(", ", missing)}, which {SqlFile} no longer outputs " +
                $"(it outputs {string.Join(", ", outputs)}). Score with a model trained on these features (--model <name>:N).", 2);
    }

    /// <summary>
    /// The model inputs of every row of <c>raw</c>, in its order. The features SQL must keep one row per record
    /// (no filter, join or aggregate): the rows are matched to their records by position.
    /// </summary>
    public List<ModelInputRow> ReadFeatures(DuckDBConnection db, FeatureSignature signature, long expectedRows) =>
        Checked(db.Query(FeaturesQuery(signature), r => ModelInput.ReadFeatures(r, 0, signature)), expectedRows);

    /// <summary>The query of the model inputs of <c>raw</c>'s rows.</summary>
    public string FeaturesQuery(FeatureSignature signature) => $"SELECT {ModelInput.FeaturesSql(signature)} FROM ({FeaturesSql}) t";

    /// <summary>The rows, when the features SQL kept one per record.</summary>
    public List<ModelInputRow> Checked(List<ModelInputRow> rows, long expectedRows)
    {
        if (rows.Count != expectedRows)
            throw new CtBuildException(
                $"{SqlFile} returned {rows.Count} rows for {expectedRows} records to score. Scoring needs one feature row per record: " +
                "keep filters, joins and aggregates out of the features SQL (or out of the rows they would drop).");
        return rows;
    }
}
