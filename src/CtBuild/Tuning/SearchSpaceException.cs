namespace CtBuild.Tuning;

/// <summary>
/// The search space in the config is invalid. Lists every problem found, each with the JSON path of the bad entry.
/// A configuration error (exit code 2), like <see cref="ConfigException"/>, which is sealed.
/// </summary>
public sealed class SearchSpaceException(IReadOnlyList<string> errors)
    : CtBuildException(Format(errors), exitCode: 2)
{
    /// <summary>One line per problem: "path: what is wrong".</summary>
    public IReadOnlyList<string> Errors { get; } = errors;

    private static string Format(IReadOnlyList<string> errors) =>
        $"The search space has {errors.Count} error(s); fix them in the config and rerun:"
        + string.Concat(errors.Select(e => Environment.NewLine + "  - " + e));
}
