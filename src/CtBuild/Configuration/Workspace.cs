namespace CtBuild.Configuration;

/// <summary>
/// A loaded config plus the absolute folders of one environment. Everything a stage reads or writes
/// is found from here, so two workspaces (dev and prod) never share a file by accident.
/// </summary>
public sealed record Workspace(string Root, string ConfigPath, PipelineConfig Config, string Environment, string ConfigHash)
{
    public string RawDir => Resolve(Paths.Raw);
    public string LakeDir => Resolve(Paths.Lake);
    public string StateDir => Resolve(Paths.State);
    public string ReportsDir => Resolve(Paths.Reports);
    public string ModelsDir => Resolve(Paths.Models);
    public string TrackingDir => Path.Combine(StateDir, "tracking");
    public string StagesDir => Path.Combine(StateDir, "stages");
    public string CandidateDir => Path.Combine(StateDir, "candidate");
    public string DecisionDir => Path.Combine(StateDir, "decision");

    /// <summary>The folder that holds <c>models/</c>: the registry keeps its files at <c>models/&lt;name&gt;/</c> under it.</summary>
    public string RegistryRoot => Path.GetFileName(ModelsDir) == "models"
        ? Path.GetDirectoryName(ModelsDir)!
        : throw new ConfigException($"The models path {ModelsDir} must end in a folder named 'models' (the registry lays out models/<name>/ under its parent).");

    PathsConfig Paths => Environment == "default" ? Config.Paths
        : Config.Environments.TryGetValue(Environment, out var p) ? p
        : throw new ConfigException($"Unknown environment '{Environment}'. The config defines: {string.Join(", ", Config.Environments.Keys.DefaultIfEmpty("(none)"))}.");

    public string Resolve(string relative) => Path.GetFullPath(Path.Combine(Root, relative));

    /// <summary>Loads <paramref name="configPath"/> (default: ./ctbuild.json) for an environment (default: the top-level paths).</summary>
    public static Workspace Load(string? configPath = null, string? environment = null)
    {
        var path = Path.GetFullPath(configPath ?? ConfigLoader.DefaultFileName);
        var config = ConfigLoader.Load(path);
        var text = File.ReadAllBytes(path);
        var ws = new Workspace(Path.GetDirectoryName(path)!, path, config, environment ?? "default", Hashing.Sha256Hex(text));
        _ = ws.Paths; // fail early on an unknown environment
        return ws;
    }
}
