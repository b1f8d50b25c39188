using CtBuild.Storage;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CtBuild.Tracking;

/// <summary>
/// Logs to one run. Safe to call from several threads. Every event is appended to
/// events.jsonl as one line and fsync'd, so a crash loses at most the line being written.
/// Disposing without <see cref="End"/> marks the run Failed.
/// </summary>
public sealed class RunWriter : IDisposable
{
    private readonly string _root;
    private readonly object _gate = new();
    private readonly FileStream _events;
    private RunMeta _meta;
    private long _seq;
    private bool _ended;

    internal RunWriter(string root, RunMeta meta)
    {
        _root = root;
        _meta = meta;
        _events = new FileStream(RunFiles.EventsPath(root, meta.Id), FileMode.Append, FileAccess.Write,
            FileShare.ReadWrite | FileShare.Delete);
    }

    /// <summary>The run's id.</summary>
    public string RunId => _meta.Id;

    /// <summary>The folder that holds the run's artifacts.</summary>
    public string ArtifactFolder => RunFiles.ArtifactsFolder(_root, _meta.Id);

    /// <summary>Records a parameter; logging the same key again replaces the value.</summary>
    public void LogParam(string key, string value) => Append(new RunEvent(RunId, 0, default, "param", CheckKey(key), Value: value));

    /// <summary>Records a parameter, formatted with the invariant culture.</summary>
    public void LogParam(string key, IFormattable value) => LogParam(key, value.ToString(null, CultureInfo.InvariantCulture));

    /// <summary>Records several parameters.</summary>
    public void LogParams(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        foreach (var (key, value) in parameters) LogParam(key, value);
    }

    /// <summary>Records one value of a metric at <paramref name="step"/> (0 when not given).</summary>
    public void LogMetric(string name, double value, long? step = null) =>
        Append(new RunEvent(RunId, 0, default, "metric", CheckKey(name), Num: value, Step: step ?? 0));

    /// <summary>Sets a tag; setting it again replaces the value.</summary>
    public void SetTag(string key, string value) => Append(new RunEvent(RunId, 0, default, "tag", CheckKey(key), Value: value));

    /// <summary>Records a lake table version this run read.</summary>
    public void LogInput(string table, long version, string digest) =>
        Append(new RunEvent(RunId, 0, default, "input", CheckKey(table), Version: version, Digest: digest));

    /// <summary>Copies <paramref name="sourcePath"/> into the run's artifact folder as <paramref name="name"/> (may contain '/').</summary>
    public RunArtifact LogArtifact(string name, string sourcePath)
    {
        var relative = CheckArtifactName(name);
        if (!File.Exists(sourcePath))
            throw new TrackingException($"Cannot log artifact '{name}' for run {RunId}: source file {sourcePath} does not exist.");
        var (size, sha256) = AtomicFile.Copy(sourcePath, Path.Combine(ArtifactFolder, relative));
        var artifact = new RunArtifact(name, relative.Replace('\\', '/'), size, sha256);
        Append(new RunEvent(RunId, 0, default, "artifact", name, Path: artifact.Path, Size: size, Sha256: sha256));
        return artifact;
    }

    /// <summary>Stores <paramref name="content"/> (UTF-8) as an artifact, e.g. ROC points as JSON.</summary>
    public RunArtifact LogArtifactText(string name, string content)
    {
        var temp = Path.Combine(Path.GetTempPath(), $"ctb-artifact-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(temp, content, new UTF8Encoding(false));
            return LogArtifact(name, temp);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Ends the run: rewrites meta.json with the status, end time and error.</summary>
    public void End(RunStatus status, string? error = null)
    {
        if (status == RunStatus.Running) throw new ArgumentException("A run cannot end with status Running.", nameof(status));
        lock (_gate)
        {
            ThrowIfEnded();
            _ended = true;
            _meta = _meta with { Status = status, EndTime = RunFiles.Now(), Error = error };
            RunFiles.WriteMeta(_root, _meta);
            File.Delete(Path.Combine(RunFiles.RunningFolder(_root), RunId));
            _events.Dispose();
        }
    }

    /// <summary>Marks the run Failed unless <see cref="End"/> was called.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_ended) return;
        }
        End(RunStatus.Failed, "the run was disposed without End (an exception in the code that ran it?)");
    }

    private void Append(RunEvent e)
    {
        lock (_gate)
        {
            ThrowIfEnded();
            var line = JsonSerializer.SerializeToUtf8Bytes(e with { Seq = ++_seq, Time = RunFiles.Now() }, RunFiles.Json);
            var bytes = new byte[line.Length + 1];
            line.CopyTo(bytes, 0);
            bytes[^1] = (byte)'\n';
            // One write per line: a crash tears at most this line, and a reader skips it.
            _events.Write(bytes);
            _events.Flush(flushToDisk: true);
        }
    }

    private void ThrowIfEnded()
    {
        if (_ended) throw new InvalidOperationException($"Run {RunId} has already ended; start a new run to log more.");
    }

    private static string CheckKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key)) throw new ArgumentException("A key must not be empty.", nameof(key));
        return key;
    }

    private static string CheckArtifactName(string name)
    {
        var parts = name.Split('/', '\\');
        if (string.IsNullOrWhiteSpace(name) || Path.IsPathRooted(name) || parts.Any(p => p is "" or "." or ".."))
            throw new ArgumentException(
                $"Artifact name '{name}' must be a relative path like 'model.zip' or 'plots/roc.json' without '..'.", nameof(name));
        return Path.Combine(parts);
    }
}
