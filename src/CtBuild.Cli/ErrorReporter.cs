using CtBuild.GitHub;
using Spectre.Console;
using Spectre.Console.Cli;

namespace CtBuild.Cli;

/// <summary>
/// Turns exceptions into the <see cref="ExitCodes"/> scripts rely on — 0 ok, 1 failed, 2 bad usage or
/// config — with the message alone for errors the user can act on, and the stack trace only for bugs.
/// </summary>
public static class ErrorReporter
{
    public static int Report(Exception ex)
    {
        var (code, message, showTrace) = ex switch
        {
            CommandAppException => (ExitCodes.BadUsage, ex.Message, false),
            CtBuildException c => (c.ExitCode, c.Message, false),
            OperationCanceledException => (ExitCodes.Failed, "Cancelled.", false),
            // A path that is not there is not a full disk: say only what is missing (the message names it).
            FileNotFoundException or DirectoryNotFoundException => (ExitCodes.Failed, $"{ex.Message} Check the paths in ctbuild.json (or --env), then run again.", false),
            // A full disk or a refused permission is the machine's problem, not a bug: the message names the path.
            IOException or UnauthorizedAccessException => (ExitCodes.Failed, $"{ex.Message} The step that failed left the previous state in place; " +
                "free disk space or give this user write access there, then run again.", false),
            _ => (ExitCodes.Failed, $"Unexpected error: {ex.Message}", true),
        };
        // Spectre's own rendering of a usage error carries the hints ("Did you mean 'ingest'?") and
        // points at the offending token; print it instead of the bare message.
        if (ex is CommandAppException { Pretty: { } pretty })
            StderrConsole.Write(pretty);
        else
            Console.Error.WriteLine($"error: {message}");
        if (showTrace) Console.Error.WriteLine(ex.ToString());
        var github = GitHubActions.FromProcess();
        if (github.IsActive) github.Error(message, title: "CtBuild");
        if (ex is CommandAppException)
            Console.Error.WriteLine("Run `ctb --help` or `ctb <verb> --help` for usage and examples.");
        return code;
    }

    static IAnsiConsole StderrConsole => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
        Ansi = Environment.GetEnvironmentVariable("NO_COLOR") is null && !Console.IsErrorRedirected ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = Environment.GetEnvironmentVariable("NO_COLOR") is null && !Console.IsErrorRedirected ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
    });
}

/// <summary>What <c>ctb --version</c> prints: the tool's version and the commit of the engine it was built from.</summary>
public static class ToolVersion
{
    public static string Describe()
    {
        var version = Informational(typeof(ToolVersion).Assembly);
        var engine = Informational(typeof(CtBuildException).Assembly);
        var plus = engine.IndexOf('+');
        var commit = plus >= 0 ? engine[(plus + 1)..] : "unknown (built outside git)";
        var plain = version.Split('+')[0];
        return $"{plain} (engine commit {commit})";
    }

    static string Informational(System.Reflection.Assembly assembly) =>
        assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
        ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
}

/// <summary>
/// Progress and messages for people: on a terminal a live line (stage, n/N, status); in CI logs a plain
/// line at most every few seconds. Colours follow NO_COLOR and whether output is a terminal.
/// With --json, everything goes to stderr so stdout carries only the JSON result.
/// </summary>
public sealed class ConsoleLog(bool toStderr) : CtBuild.Pipeline.IPipelineLog
{
    readonly TextWriter _out = toStderr ? Console.Error : Console.Out;
    readonly bool _live = !(toStderr ? Console.IsErrorRedirected : Console.IsOutputRedirected) && Environment.GetEnvironmentVariable("CI") is null;
    readonly bool _colour = Environment.GetEnvironmentVariable("NO_COLOR") is null && !(toStderr ? Console.IsErrorRedirected : Console.IsOutputRedirected);
    readonly GitHubActions _github = new(Environment.GetEnvironmentVariable, toStderr ? Console.Error : Console.Out);
    DateTime _lastPlain = DateTime.MinValue;
    bool _liveLineOpen;
    readonly object _gate = new();

    public void Info(string message) => Write(message);

    public void Warning(string message, string? file = null, int? line = null)
    {
        if (_github.IsActive) _github.Warning(message, file, line);
        Write(_colour ? $"\u001b[33mwarning:\u001b[0m {message}" : $"warning: {message}");
    }

    public void Progress(string step, int done, int total, string status)
    {
        lock (_gate)
        {
            var text = $"{step} {done}/{total}  {status}";
            if (_live)
            {
                _out.Write("\r\u001b[2K" + (_colour ? $"\u001b[36m{step}\u001b[0m {done}/{total}  {status}" : text));
                _liveLineOpen = true;
                if (done == total) { _out.WriteLine(); _liveLineOpen = false; }
            }
            else if (done == total || done == 1 || DateTime.UtcNow - _lastPlain > TimeSpan.FromSeconds(5))
            {
                _out.WriteLine(text);
                _lastPlain = DateTime.UtcNow;
            }
        }
    }

    void Write(string message)
    {
        lock (_gate)
        {
            if (_liveLineOpen) { _out.WriteLine(); _liveLineOpen = false; }
            _out.WriteLine(message);
        }
    }
}
