namespace CtBuild.Pipeline;

/// <summary>
/// Where stages report what they do. The CLI shows it as live progress on a terminal and as plain
/// periodic lines in CI logs; tests collect it.
/// </summary>
public interface IPipelineLog
{
    void Info(string message);
    void Warning(string message, string? file = null, int? line = null);
    /// <summary>Progress of a long step: <paramref name="done"/> of <paramref name="total"/>, with a status such as "best AUC 0.9213, ~1m left".</summary>
    void Progress(string step, int done, int total, string status);
}

/// <summary>A log that keeps every line; for tests and for the JSON output of a verb.</summary>
public sealed class MemoryLog : IPipelineLog
{
    readonly List<string> _lines = [];
    public IReadOnlyList<string> Lines { get { lock (_lines) return [.. _lines]; } }
    public void Info(string message) { lock (_lines) _lines.Add(message); }
    public void Warning(string message, string? file = null, int? line = null) { lock (_lines) _lines.Add("warning: " + message); }
    public void Progress(string step, int done, int total, string status) { lock (_lines) _lines.Add($"{step} {done}/{total} {status}"); }
}
