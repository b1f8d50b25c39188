using CtBuild.Configuration;
using CtBuild.Pipeline;

namespace CtBuild.Lake;

/// <summary>The workspace's lake tables by name.</summary>
public static class LakeTables
{
    /// <summary>The table Split writes: the features plus <see cref="SplitColumn"/>.</summary>
    public const string Splits = "splits";

    /// <summary>The column of <see cref="Splits"/> that says train, valid or test.</summary>
    public const string SplitColumn = "split";

    public static DeltaTable Open(Workspace ws, string name) => DeltaTable.At(Path.Combine(ws.LakeDir, name));

    /// <summary>
    /// How old an unreferenced data file must be before a writer deletes it. A younger one may belong to a
    /// writer in another workspace on a shared lake that has written its file but not yet its commit.
    /// </summary>
    public static readonly TimeSpan LeftoverMinAge = TimeSpan.FromHours(1);

    /// <summary>
    /// The table a stage is about to write, after deleting the data files and temporary commits that a
    /// crashed writer left behind (never referenced by any version, older than <see cref="LeftoverMinAge"/>).
    /// </summary>
    public static DeltaTable OpenForWrite(Workspace ws, string name, IPipelineLog log)
    {
        var table = Open(ws, name);
        var deleted = table.CleanUntracked(LeftoverMinAge);
        if (deleted > 0) log.Info($"{name}: deleted {deleted} file(s) an interrupted write left behind");
        return table;
    }

    /// <summary>A writer with the workspace's lake settings (checkpoint interval).</summary>
    public static DeltaWriter Writer(Workspace ws, DuckDB.NET.Data.DuckDBConnection connection) =>
        new(connection) { CheckpointInterval = ws.Config.Lake.CheckpointInterval };

    public static long? LatestVersion(Workspace ws, string name)
    {
        var t = Open(ws, name);
        return t.Exists ? t.LatestVersion() : null;
    }

    /// <summary>The latest snapshot, or an error telling the user which stage makes the table.</summary>
    public static DeltaSnapshot Latest(Workspace ws, string name, string madeBy)
    {
        var t = Open(ws, name);
        if (!t.Exists)
            throw new CtBuildException($"The lake table '{name}' does not exist yet in {ws.LakeDir}. Run `ctb {madeBy}` (or `dotnet cake --target={char.ToUpperInvariant(madeBy[0]) + madeBy[1..]}`) first.");
        return t.Snapshot();
    }
}
