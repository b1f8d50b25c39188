using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Stages;

/// <summary>
/// Features: runs the config's DuckDB SQL over a snapshot of <c>raw</c> (visible to the SQL as the view
/// <c>raw</c>) and writes the result as a new version of <c>features</c> — only when the content changed,
/// so unchanged features leave every later stage fresh.
/// Inputs: raw's version, the SQL file's hash, the features config. Output: the features version.
/// </summary>
public sealed class FeaturesStage : Stage
{
    public const string Table = "features";

    public override string Name => "features";
    public override string CodeVersion => "features/2";

    public override StageInputs Inputs(StageContext context)
    {
        var ws = context.Workspace;
        var sql = ws.Resolve(ws.Config.Features.Sql);
        return StageInputs.Of(
            ("code", CodeVersion),
            ("config.features", Section(ws.Config.Features)),
            ("sql", File.Exists(sql) ? context.FileHashes.Hash(sql) : "missing"),
            ("raw.version", LakeTables.LatestVersion(ws, IngestStage.RawTable)?.ToString() ?? "none"));
    }

    public override bool OutputsIntact(StageContext context, StageOutputs recorded) =>
        LakeTables.LatestVersion(context.Workspace, Table)?.ToString() == recorded.Get("features.version");

    public override StageOutputs Run(StageContext context)
    {
        var ws = context.Workspace;
        var cfg = ws.Config.Features;
        var sqlPath = ws.Resolve(cfg.Sql);
        if (!File.Exists(sqlPath))
            throw new ConfigException($"The features SQL file {sqlPath} (features.sql in {ws.ConfigPath}) does not exist. Create it, or point features.sql at your file.");
        var sql = File.ReadAllText(sqlPath).Trim().TrimEnd(';');
        var raw = LakeTables.Latest(ws, IngestStage.RawTable, "ingest");

        using var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill"));
        db.Exec($"CREATE VIEW raw AS SELECT * FROM {raw.ToDuckDbSql()}");
        List<(string Name, string Type)> columns;
        try
        {
            columns = db.Query($"DESCRIBE SELECT * FROM ({sql})", r => (r.GetString(0), r.GetString(1)));
        }
        catch (DuckDB.NET.Data.DuckDBException ex)
        {
            throw new CtBuildException($"{Path.GetRelativePath(ws.Root, sqlPath)}: the features SQL failed in DuckDB: {ex.Message}. The SQL reads the view `raw` (columns: {string.Join(", ", raw.Schema.Select(f => f.Name))}).", 1, ex);
        }
        CheckColumns(columns, cfg.Label, sqlPath);
        db.Exec($"CREATE TEMP TABLE result AS SELECT * FROM ({sql})");
        var nullLabels = db.Scalar<long>($"SELECT count(*) FROM result WHERE {Ident(cfg.Label)} IS NULL");
        if (nullLabels > 0)
            throw new CtBuildException($"{Path.GetRelativePath(ws.Root, sqlPath)}: {nullLabels} rows have a NULL label '{cfg.Label}'. Every row needs a label; filter them out in the SQL or fix the contract.");

        var table = LakeTables.OpenForWrite(ws, Table, context.Log);
        var lineage = new Lineage([new LineageSource(IngestStage.RawTable, raw.Version)], Hashing.Sha256Hex(sql), ws.ConfigHash);
        var result = LakeTables.Writer(ws, db).Write(table, "SELECT * FROM result", WriteMode.Overwrite, "CREATE OR REPLACE TABLE AS SELECT",
            new Dictionary<string, string> { ["sqlFile"] = cfg.Sql }, lineage, skipIfContentUnchanged: true);
        var summary = result.Committed
            ? $"features v{result.Version}: {result.RowsWritten} rows, {columns.Count} columns from raw v{raw.Version}"
            : $"features unchanged (v{result.Version}) from raw v{raw.Version}";
        return StageOutputs.Of(summary, ("features.version", result.Version.ToString()), ("features.digest", result.ContentDigest ?? ""));
    }

    static void CheckColumns(List<(string Name, string Type)> columns, string label, string sqlPath)
    {
        var labelColumn = columns.FirstOrDefault(c => c.Name == label);
        if (labelColumn.Name is null)
            throw new ConfigException($"{sqlPath}: the SQL must output the label column '{label}' (features.label); it outputs {string.Join(", ", columns.Select(c => c.Name))}.");
        if (labelColumn.Type != "BOOLEAN")
            throw new ConfigException($"{sqlPath}: the label column '{label}' must be BOOLEAN (true = positive class), but it is {labelColumn.Type}. Write e.g. `income = '>50K' AS {label}`.");
        if (columns.Count < 2)
            throw new ConfigException($"{sqlPath}: the SQL outputs no feature column besides the label.");
    }
}
