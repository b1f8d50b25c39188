using System.Globalization;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Stages;

/// <summary>
/// Split: gives every feature row a split (train / valid / test) from an md5 hash of its key, salted —
/// so a row keeps its split as data grows — and writes <c>splits</c> (the features plus a <c>split</c> column).
/// Inputs: features version, split config. Output: splits version.
/// </summary>
public sealed class SplitStage : Stage
{
    public const string Table = LakeTables.Splits;
    public const string SplitColumn = LakeTables.SplitColumn;

    public override string Name => "split";
    public override string CodeVersion => "split/1";

    public override StageInputs Inputs(StageContext context) => StageInputs.Of(
        ("code", CodeVersion),
        ("config.split", Section(context.Workspace.Config.Split)),
        ("features.version", LakeTables.LatestVersion(context.Workspace, FeaturesStage.Table)?.ToString() ?? "none"));

    public override bool OutputsIntact(StageContext context, StageOutputs recorded) =>
        LakeTables.LatestVersion(context.Workspace, Table)?.ToString() == recorded.Get("splits.version");

    public override StageOutputs Run(StageContext context)
    {
        var ws = context.Workspace;
        var cfg = ws.Config.Split;
        var features = LakeTables.Latest(ws, FeaturesStage.Table, "features");
        if (cfg.Key is { } key && features.Schema.All(f => f.Name != key))
            throw new ConfigException($"split.key '{key}' is not a column of the features table (columns: {string.Join(", ", features.Schema.Select(f => f.Name))}). Output it from the features SQL, or remove split.key to hash whole rows.");
        if (features.Schema.Any(f => f.Name == SplitColumn))
            throw new ConfigException($"The features SQL outputs a column named '{SplitColumn}', which Split adds itself. Rename or drop it in the SQL.");

        // The first 8 hex digits of md5 as a number in [0, 1): stable across DuckDB versions, unlike hash().
        var hashed = cfg.Key is null ? "CAST(f AS VARCHAR)" : $"CAST(f.{Ident(cfg.Key)} AS VARCHAR)";
        var unit = $"CAST(('0x' || substr(md5({Literal(cfg.Salt + "|")} || {hashed}), 1, 8)) AS UBIGINT) / 4294967296.0";
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var sql = $"""
            SELECT f.*, CASE WHEN {unit} < {F(cfg.Train)} THEN 'train'
                             WHEN {unit} < {F(cfg.Train + cfg.Valid)} THEN 'valid' ELSE 'test' END AS {SplitColumn}
            FROM {features.ToDuckDbSql()} f
            """;
        using var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill"));
        var table = LakeTables.OpenForWrite(ws, Table, context.Log);
        var lineage = new Lineage([new LineageSource(FeaturesStage.Table, features.Version)], Hashing.Sha256Hex(sql), ws.ConfigHash);
        var result = new DeltaWriter(db).Write(table, sql, WriteMode.Overwrite, "CREATE OR REPLACE TABLE AS SELECT",
            new Dictionary<string, string> { ["key"] = cfg.Key ?? "(whole row)", ["ratios"] = $"{F(cfg.Train)}/{F(cfg.Valid)}/{F(cfg.Test)}" },
            lineage, skipIfContentUnchanged: true);
        var counts = SplitCounts.Read(db, table.Snapshot(result.Version), ws.Config.Features.Label);
        return StageOutputs.Of($"splits v{result.Version}: {counts}", ("splits.version", result.Version.ToString()), ("splits.digest", result.ContentDigest ?? ""));
    }
}

/// <summary>Rows and positives per split.</summary>
public sealed record SplitCount(string Split, long Rows, long Positives)
{
    public double PositiveRate => Rows == 0 ? 0 : (double)Positives / Rows;
}

public static class SplitCounts
{
    public static IReadOnlyList<SplitCount> Query(DuckDB.NET.Data.DuckDBConnection db, DeltaSnapshot splits, string label) =>
        db.Query($"""
            SELECT {SplitStage.SplitColumn}, count(*), count(*) FILTER (WHERE {Ident(label)})
            FROM {splits.ToDuckDbSql()} GROUP BY 1 ORDER BY CASE {SplitStage.SplitColumn} WHEN 'train' THEN 0 WHEN 'valid' THEN 1 ELSE 2 END
            """, r => new SplitCount(r.GetString(0), Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2))));

    public static string Read(DuckDB.NET.Data.DuckDBConnection db, DeltaSnapshot splits, string label) =>
        string.Join(", ", Query(db, splits, label).Select(c => $"{c.Split} {c.Rows} ({c.PositiveRate:P1} positive)"));
}
