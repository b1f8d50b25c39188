using System.Reflection;

namespace CtBuild.Pipeline;

/// <summary>
/// The CtBuild engine that ran a stage, recorded in its lock. Not part of the fingerprint: an upgrade re-runs only
/// the stages whose <see cref="Stage.CodeVersion"/> changed, and the engine version says which CtBuild did it.
/// </summary>
public static class EngineVersion
{
    public static string Current { get; } =
        typeof(Stage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Stage).Assembly.GetName().Version?.ToString() ?? "unknown";
}
