using CtBuild.Storage;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CtBuild.Tracking;

/// <summary>meta.json: what is known about a run at start, rewritten whole when it ends.</summary>
internal sealed record RunMeta(
    string Id,
    string ExperimentId,
    string Experiment,
    string Name,
    RunStatus Status,
    DateTimeOffset StartTime,
    DateTimeOffset? EndTime,
    string? Error,
    string? ParentRunId,
    CodeVersion? CodeVersion,
    ProcessOwner Owner);

/// <summary>
/// One line of events.jsonl. Kind is param, metric, tag, input or artifact; the other fields
/// are filled as the kind needs. Seq orders the lines of one run.
/// </summary>
internal sealed record RunEvent(
    string Run,
    long Seq,
    DateTimeOffset Time,
    string Kind,
    string Key,
    string? Value = null,
    double? Num = null,
    long? Step = null,
    long? Version = null,
    string? Digest = null,
    string? Path = null,
    long? Size = null,
    string? Sha256 = null);

/// <summary>experiments/&lt;id&gt;.json</summary>
internal sealed record ExperimentFile(string Id, string Name, DateTimeOffset Created);

/// <summary>The tracking store's folder layout and file formats.</summary>
internal static class RunFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static readonly JsonSerializerOptions IndentedJson = new(Json) { WriteIndented = true };

    public static string RunsFolder(string root) => System.IO.Path.Combine(root, "runs");
    public static string RunFolder(string root, string runId) => System.IO.Path.Combine(root, "runs", runId);
    public static string MetaPath(string root, string runId) => System.IO.Path.Combine(RunFolder(root, runId), "meta.json");
    public static string EventsPath(string root, string runId) => System.IO.Path.Combine(RunFolder(root, runId), "events.jsonl");
    public static string ArtifactsFolder(string root, string runId) => System.IO.Path.Combine(RunFolder(root, runId), "artifacts");
    public static string RunningFolder(string root) => System.IO.Path.Combine(root, "running");
    public static string ExperimentsFolder(string root) => System.IO.Path.Combine(root, "experiments");

    public static void WriteMeta(string root, RunMeta meta) =>
        AtomicFile.WriteAllBytes(MetaPath(root, meta.Id), JsonSerializer.SerializeToUtf8Bytes(meta, IndentedJson));

    public static RunMeta? ReadMeta(string root, string runId)
    {
        var path = MetaPath(root, runId);
        if (!File.Exists(path)) return null;
        return JsonSerializer.Deserialize<RunMeta>(File.ReadAllBytes(path), Json)
               ?? throw new TrackingException($"Run meta file {path} is empty; the run is damaged.");
    }

    /// <summary>
    /// Reads the complete lines of events.jsonl. A last line without its newline, or one that does
    /// not parse, is a write cut short (crash, or a write in progress) and is skipped.
    /// </summary>
    public static List<RunEvent> ReadEvents(string root, string runId)
    {
        var path = EventsPath(root, runId);
        var events = new List<RunEvent>();
        if (!File.Exists(path)) return events;
        string text;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
            text = reader.ReadToEnd();

        var lines = text.Split('\n');
        // The piece after the final '\n' is empty for a well-formed file, partial otherwise.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                events.Add(JsonSerializer.Deserialize<RunEvent>(lines[i], Json)!);
            }
            catch (JsonException) when (i == lines.Length - 2)
            {
                // a torn last line that happened to contain a newline byte: skip it
            }
            catch (JsonException e)
            {
                throw new TrackingException(
                    $"Line {i + 1} of {path} is not valid JSON ({e.Message}). Only the last line may be torn; " +
                    "the file was edited or damaged. Restore it from a backup or remove that line.");
            }
        }
        return events;
    }

    /// <summary>Truncated to milliseconds: what the JSON files, DuckDB and the filter agree on.</summary>
    public static DateTimeOffset Now()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
    }
}
