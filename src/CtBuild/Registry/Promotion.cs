using CtBuild.Configuration;
using CtBuild.Lake;

namespace CtBuild.Registry;

/// <summary>What a promotion needs from the registry and the lake: the next version number and the data versions behind a model.</summary>
public static class Promotion
{
    /// <summary>One more than the highest version registered under <paramref name="name"/>, or 1.</summary>
    public static int NextVersion(ModelRegistry registry, string name)
    {
        try { return registry.Get(name).Versions.Select(v => v.Version).DefaultIfEmpty(0).Max() + 1; }
        catch (RegistryException) { return 1; }
    }

    /// <summary>splits, features and raw versions, following each table's recorded lineage back from the splits.</summary>
    public static Dictionary<string, long> DataVersions(Workspace ws, long splitsVersion)
    {
        var versions = new Dictionary<string, long> { [LakeTables.Splits] = splitsVersion };
        var (table, version) = (LakeTables.Splits, splitsVersion);
        for (var depth = 0; depth < 5; depth++)
        {
            var t = LakeTables.Open(ws, table);
            if (!t.Exists) break;
            var source = t.Snapshot(version).CommitInfo?.Lineage?.Sources.FirstOrDefault();
            if (source is null) break;
            versions[source.Table] = source.Version;
            (table, version) = (source.Table, source.Version);
        }
        return versions;
    }
}
