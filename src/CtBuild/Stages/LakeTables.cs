using CtBuild.Configuration;
using CtBuild.Lake;

namespace CtBuild.Stages;

/// <summary>The workspace's lake tables by name.</summary>
public static class LakeTables
{
    public static DeltaTable Open(Workspace ws, string name) => DeltaTable.At(Path.Combine(ws.LakeDir, name));

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
