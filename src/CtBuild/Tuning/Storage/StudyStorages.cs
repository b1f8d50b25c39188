namespace CtBuild.Tuning;

/// <summary>
/// Where a workspace keeps its studies: the embedded file store under the state folder by default; a shared folder,
/// or a PostgreSQL server for workers on many machines, when <c>tune.storage</c> or <c>CTB_TUNE_STORAGE</c> names one.
/// </summary>
public static class StudyStorages
{
    /// <summary>Overrides <c>tune.storage</c>, so a server URL (and anything secret in it) stays out of git.</summary>
    public const string EnvironmentVariable = "CTB_TUNE_STORAGE";

    /// <summary>The location in force: <paramref name="explicitLocation"/> (a command-line option), else the environment variable, else <paramref name="configured"/>.</summary>
    public static string? Location(string? explicitLocation, string? configured) =>
        !string.IsNullOrWhiteSpace(explicitLocation) ? explicitLocation
        : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env
        : string.IsNullOrWhiteSpace(configured) ? null : configured;

    /// <summary>Opens the storage at <paramref name="location"/>: null → <paramref name="defaultFolder"/>; a folder relative to <paramref name="root"/>; or a postgresql:// URL.</summary>
    public static IStudyStorage Open(string? location, string defaultFolder, string root) =>
        location is null ? new FileStudyStorage(defaultFolder)
        : PostgresUrl.IsPostgres(location) ? PostgresStudyStorage.Open(location)
        : new FileStudyStorage(Path.GetFullPath(location, root));

    /// <summary>What to print for <paramref name="storage"/>: a folder, or the server URL without its password.</summary>
    public static string Describe(IStudyStorage storage) => storage switch
    {
        FileStudyStorage f => f.Root,
        PostgresStudyStorage p => p.Url.ToString(),
        _ => storage.GetType().Name,
    };
}
