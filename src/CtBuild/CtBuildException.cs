namespace CtBuild;

/// <summary>
/// An error the user can act on: the message says what was wrong, where, and what to do next.
/// The CLI prints it without a stack trace and exits with <see cref="ExitCode"/>.
/// </summary>
public class CtBuildException : Exception
{
    public CtBuildException(string message, int exitCode = ExitCodes.Failed, Exception? inner = null) : base(message, inner)
        => ExitCode = exitCode;

    /// <summary>One of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; }
}

/// <summary>Bad configuration or bad command-line usage (exit code 2).</summary>
public sealed class ConfigException(string message) : CtBuildException(message, ExitCodes.BadUsage);
