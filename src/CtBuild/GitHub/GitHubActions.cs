using System.Globalization;
using System.Text;

namespace CtBuild.GitHub;

/// <summary>
/// Talks to the GitHub Actions runner: log groups and annotations are workflow commands on
/// standard output; step outputs, the job summary and environment variables go to the files the
/// runner names in GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_ENV.
/// Outside GitHub Actions every member does nothing, so callers need no checks of their own.
/// </summary>
public sealed class GitHubActions
{
    private readonly Func<string, string?> _environment;
    private readonly TextWriter _commands;

    /// <param name="environment">Reads an environment variable (null when unset); injectable so tests need not touch the process environment.</param>
    /// <param name="commands">Where workflow commands are written; the runner reads standard output.</param>
    public GitHubActions(Func<string, string?> environment, TextWriter commands)
    {
        _environment = environment;
        _commands = commands;
    }

    /// <summary>
    /// True when standard output is reserved for a machine-readable result (<c>ctb … --json</c>): commands
    /// then go to standard error, which the runner parses for workflow commands as well.
    /// </summary>
    public static bool CommandsToStderr { get; set; }

    /// <summary>Reads the process environment and writes commands to standard output (standard error under <see cref="CommandsToStderr"/>).</summary>
    public static GitHubActions FromProcess() => new(Environment.GetEnvironmentVariable, CommandsToStderr ? Console.Error : Console.Out);

    /// <summary>True when running inside GitHub Actions (GITHUB_ACTIONS=true).</summary>
    public bool IsActive => string.Equals(_environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Starts a collapsible group in the log; close it with <see cref="EndGroup"/>.</summary>
    public void BeginGroup(string name) => Command("group", [], name);

    /// <summary>Ends the group started by <see cref="BeginGroup"/>.</summary>
    public void EndGroup() => Command("endgroup", [], "");

    /// <summary>Runs <paramref name="work"/> inside a log group that is closed even when it throws.</summary>
    public T InGroup<T>(string name, Func<T> work)
    {
        BeginGroup(name);
        try { return work(); }
        finally { EndGroup(); }
    }

    /// <summary>Runs <paramref name="work"/> inside a log group that is closed even when it throws.</summary>
    public void InGroup(string name, Action work) => InGroup(name, () => { work(); return 0; });

    /// <summary>An error annotation, shown on the run and, with a file, on that line of the diff.</summary>
    public void Error(string message, string? file = null, int? line = null, int? col = null, string? title = null)
        => Annotate("error", message, file, line, col, title);

    /// <summary>A warning annotation.</summary>
    public void Warning(string message, string? file = null, int? line = null, int? col = null, string? title = null)
        => Annotate("warning", message, file, line, col, title);

    /// <summary>A notice annotation.</summary>
    public void Notice(string message, string? file = null, int? line = null, int? col = null, string? title = null)
        => Annotate("notice", message, file, line, col, title);

    /// <summary>Sets a step output (read as <c>steps.&lt;id&gt;.outputs.&lt;name&gt;</c>); multi-line values are allowed.</summary>
    public void SetOutput(string name, string value) => AppendKeyValue("GITHUB_OUTPUT", name, value);

    /// <summary>Sets an environment variable for the later steps of the job; multi-line values are allowed.</summary>
    public void SetEnv(string name, string value) => AppendKeyValue("GITHUB_ENV", name, value);

    /// <summary>GitHub drops a step's whole job summary when it is larger than this.</summary>
    public const long StepSummaryLimitBytes = 1024 * 1024;

    /// <summary>
    /// Appends Markdown to the job summary shown on the run's page. Markdown that would take the
    /// step's summary past <see cref="StepSummaryLimitBytes"/> is left out, with a warning, so what
    /// was already written stays visible.
    /// </summary>
    /// <returns>False when the Markdown was left out for its size or when not in GitHub Actions.</returns>
    public bool AppendStepSummary(string markdown)
    {
        if (!IsActive) return false;
        var path = FileFor("GITHUB_STEP_SUMMARY");
        var text = markdown.EndsWith('\n') ? markdown : markdown + "\n";
        var size = File.Exists(path) ? new FileInfo(path).Length : 0;
        if (size + Utf8.GetByteCount(text) > StepSummaryLimitBytes)
        {
            Warning($"Job summary section of {Utf8.GetByteCount(text)} bytes left out: GitHub shows at most " +
                    $"{StepSummaryLimitBytes} bytes per step. The full report is in the reports/ artifact.",
                    title: "Job summary too large");
            return false;
        }
        File.AppendAllText(path, text, Utf8);
        return true;
    }

    private void Annotate(string kind, string message, string? file, int? line, int? col, string? title)
    {
        var properties = new List<(string, string)>();
        if (file is not null) properties.Add(("file", file));
        if (line is not null) properties.Add(("line", line.Value.ToString(CultureInfo.InvariantCulture)));
        if (col is not null) properties.Add(("col", col.Value.ToString(CultureInfo.InvariantCulture)));
        if (title is not null) properties.Add(("title", title));
        Command(kind, properties, message);
    }

    private void Command(string name, IReadOnlyList<(string Key, string Value)> properties, string message)
    {
        if (!IsActive) return;
        var line = new StringBuilder("::").Append(name);
        for (var i = 0; i < properties.Count; i++)
            line.Append(i == 0 ? ' ' : ',').Append(properties[i].Key).Append('=').Append(EscapeProperty(properties[i].Value));
        line.Append("::").Append(EscapeData(message));
        // One write per command: the runner parses whole lines, so a command must never be split.
        _commands.Write(line.Append('\n').ToString());
        _commands.Flush();
    }

    private void AppendKeyValue(string fileVariable, string name, string value)
    {
        if (!IsActive) return;
        if (name.Length == 0 || name.Contains('=') || name.Contains('\n') || name.Contains('\r'))
            throw new ArgumentException(
                $"'{name}' cannot be the name of a {fileVariable} entry: it must be non-empty and hold no '=' or line break.", nameof(name));
        File.AppendAllText(FileFor(fileVariable), KeyValueEntry(name, value), Utf8);
    }

    /// <summary>The text of one entry of GITHUB_OUTPUT or GITHUB_ENV: <c>name=value</c>, or the delimiter form for multi-line values.</summary>
    internal static string KeyValueEntry(string name, string value)
    {
        if (!value.Contains('\n') && !value.Contains('\r')) return $"{name}={value}\n";
        // A random delimiter, as GitHub asks, so no value can end the entry early or inject another.
        var delimiter = "ghadelimiter_" + Guid.NewGuid().ToString("N");
        return $"{name}<<{delimiter}\n{value}\n{delimiter}\n";
    }

    /// <summary>Escapes a command's message: <c>%</c>, CR and LF.</summary>
    internal static string EscapeData(string value)
        => value.Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");

    /// <summary>Escapes a command's property value: as data, plus <c>:</c> and <c>,</c>, which delimit properties.</summary>
    internal static string EscapeProperty(string value)
        => EscapeData(value).Replace(":", "%3A").Replace(",", "%2C");

    private string FileFor(string variable)
    {
        var path = _environment(variable);
        if (string.IsNullOrEmpty(path))
            throw new CtBuildException(
                $"GITHUB_ACTIONS is true but {variable} is not set, so the runner gave no file to write to. " +
                "Run CtBuild from a workflow step on a current runner, or unset GITHUB_ACTIONS when running elsewhere.");
        return path;
    }

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
}
