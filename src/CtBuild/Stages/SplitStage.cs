using System.Globalization;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Splitting;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Stages;

/// <summary>
/// Split: gives every feature row a split (train / valid / test) from a salted md5 hash of what identifies it —
/// the key, else the row's identity, else its columns, never its label (see <see cref="SplitAssignment"/>) — so a
/// row keeps its split as data grows, then checks the label balance of the splits and writes <c>splits</c>
/// (the features plus a <c>split</c> column). Inputs: features version, split config. Output: splits version.
/// </summary>
public sealed class SplitStage : Stage
{
    public const string Table = LakeTables.Splits;
    public const string SplitColumn = LakeTables.SplitColumn;

    public override string Name => "split";
    public override string CodeVersion => "split/2";

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
        var label = ws.Config.Features.Label;
        var features = LakeTables.Latest(ws, FeaturesStage.Table, "features");
        if (cfg.Key is { } key && features.Schema.All(f => f.Name != key))
            throw new ConfigException($"split.key '{key}' is not a column of the features table (columns: {string.Join(", ", features.Schema.Select(f => f.Name))}). Output it from the features SQL, or remove split.key (see the README's \"Split\").");
        if (cfg.Key == label)
            throw new ConfigException($"split.key '{cfg.Key}' is the label: the split would follow the class. Key on a column that identifies the row.");
        if (features.Schema.Any(f => f.Name == SplitColumn))
            throw new ConfigException($"The features SQL outputs a column named '{SplitColumn}', which Split adds itself. Rename or drop it in the SQL.");

        var assignment = SplitAssignment.For(cfg.Key, features.Schema.Select(f => f.Name).ToList(), label);
        var sql = $"SELECT f.*, {assignment.SplitSql(cfg.Salt, cfg.Train, cfg.Valid, "f")} AS {SplitColumn} FROM {features.ToDuckDbSql()} f";
        using var db = DuckDb.Open(Path.Combine(ws.StateDir, "spill"));
        db.Exec($"CREATE TEMP TABLE assigned AS {sql}");
        var repeated = db.Scalar<long>($"SELECT count(*) - count(DISTINCT {assignment.HashedSql("a")}) FROM assigned a");
        var note = assignment.DuplicatesNote(repeated);
        context.Log.Info($"split: hashing {assignment.Describe()}{(note.Length > 0 ? "; " + note : "")}");
        CheckBalance(SplitCounts.Query(db, "assigned", label), cfg.BalanceCheck, assignment, context.Log);

        var table = LakeTables.OpenForWrite(ws, Table, context.Log);
        var lineage = new Lineage([new LineageSource(FeaturesStage.Table, features.Version)], Hashing.Sha256Hex(sql), ws.ConfigHash);
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var result = LakeTables.Writer(ws, db).Write(table, "SELECT * FROM assigned", WriteMode.Overwrite, "CREATE OR REPLACE TABLE AS SELECT",
            new Dictionary<string, string> { ["key"] = assignment.Describe(), ["ratios"] = $"{F(cfg.Train)}/{F(cfg.Valid)}/{F(cfg.Test)}" },
            lineage, skipIfContentUnchanged: true);
        var counts = SplitCounts.Read(db, table.Snapshot(result.Version), label);
        return StageOutputs.Of($"splits v{result.Version}: {counts}", ("splits.version", result.Version.ToString()), ("splits.digest", result.ContentDigest ?? ""));
    }

    /// <summary>Warns or fails (before anything is written) when a split's label balance is off by more than chance.</summary>
    static void CheckBalance(IReadOnlyList<SplitCount> counts, string policy, SplitAssignment assignment, IPipelineLog log)
    {
        if (policy == "off") return;
        var imbalanced = SplitBalance.Check(counts);
        if (imbalanced.Count == 0) return;
        var message = $"the splits' label balance differs by more than chance allows (two-proportion z-test, p < {SplitBalance.Alpha} after Bonferroni): " +
                      string.Join("; ", imbalanced) + ". " + (assignment.Basis == SplitBasis.Key
                          ? "Rows sharing a key share a split; check that the key identifies rows and does not follow the label."
                          : "Without split.key, set one that identifies a row (or pass Ingest's _source_sha256 and _source_line through the features SQL).") +
                      " split.balanceCheck: \"off\" silences this, \"fail\" stops the stage.";
        if (policy == "fail") throw new CtBuildException("split: " + message + " Nothing was written.");
        log.Warning("split: " + message);
    }
}

public static class SplitCounts
{
    public static IReadOnlyList<SplitCount> Query(DuckDB.NET.Data.DuckDBConnection db, DeltaSnapshot splits, string label) =>
        Query(db, splits.ToDuckDbSql(), label);

    /// <summary>Rows and positives per split of a relation (a table name or a scan) with a split column.</summary>
    public static IReadOnlyList<SplitCount> Query(DuckDB.NET.Data.DuckDBConnection db, string relation, string label) =>
        db.Query($"""
            SELECT {SplitStage.SplitColumn}, count(*), count(*) FILTER (WHERE {Ident(label)})
            FROM {relation} GROUP BY 1 ORDER BY CASE {SplitStage.SplitColumn} WHEN 'train' THEN 0 WHEN 'valid' THEN 1 ELSE 2 END
            """, r => new SplitCount(r.GetString(0), Convert.ToInt64(r.GetValue(1)), Convert.ToInt64(r.GetValue(2))));

    public static string Read(DuckDB.NET.Data.DuckDBConnection db, DeltaSnapshot splits, string label) =>
        string.Join(", ", Query(db, splits, label).Select(c => $"{c.Split} {c.Rows} ({c.PositiveRate:P1} positive)"));
}
