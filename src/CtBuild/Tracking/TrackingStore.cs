using CtBuild.Storage;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;

namespace CtBuild.Tracking;

/// <summary>
/// MLflow-like run tracking in plain files: <c>experiments/&lt;id&gt;.json</c>,
/// <c>runs/&lt;runId&gt;/meta.json</c> (atomic), <c>runs/&lt;runId&gt;/events.jsonl</c> (append-only)
/// and <c>runs/&lt;runId&gt;/artifacts/</c>; <c>running/&lt;runId&gt;</c> marks runs not yet ended.
/// Queries run in an in-memory DuckDB over those files, so readers never block writers.
/// </summary>
public sealed class TrackingStore
{
    private TrackingStore(string root) => Root = root;

    /// <summary>The store's folder.</summary>
    public string Root { get; }

    /// <summary>
    /// Opens (creating if needed) the store at <paramref name="folder"/>. Unless
    /// <paramref name="readOnly"/>, runs left Running by a process that has ended are marked Failed.
    /// </summary>
    public static TrackingStore Open(string folder, bool readOnly = false)
    {
        var root = Path.GetFullPath(folder);
        if (readOnly)
        {
            if (!Directory.Exists(root)) throw new TrackingException($"No tracking store at {root}. Run a stage that trains first, or check the path.");
        }
        else
        {
            Directory.CreateDirectory(RunFiles.RunsFolder(root));
            Directory.CreateDirectory(RunFiles.RunningFolder(root));
            Directory.CreateDirectory(RunFiles.ExperimentsFolder(root));
        }
        var store = new TrackingStore(root);
        if (!readOnly) store.ReapOrphans();
        return store;
    }

    /// <summary>
    /// Marks Running runs whose owner process has ended as Failed ("a killed run is marked failed on
    /// the next start"). Returns the ids of the runs it marked.
    /// </summary>
    public IReadOnlyList<string> ReapOrphans()
    {
        var reaped = new List<string>();
        var running = RunFiles.RunningFolder(Root);
        if (!Directory.Exists(running)) return reaped;
        foreach (var marker in Directory.EnumerateFiles(running))
        {
            var runId = Path.GetFileName(marker);
            var meta = RunFiles.ReadMeta(Root, runId);
            if (meta is { Status: RunStatus.Running })
            {
                if (!meta.Owner.IsGone()) continue;
                RunFiles.WriteMeta(Root, meta with
                {
                    Status = RunStatus.Failed,
                    EndTime = RunFiles.Now(),
                    Error = $"{meta.Owner} ended without finishing the run",
                });
                reaped.Add(runId);
            }
            File.Delete(marker); // ended, reaped, or never got its meta written
        }
        return reaped;
    }

    /// <summary>Starts a run in <paramref name="experiment"/> (created on first use).</summary>
    /// <param name="parentRunId">The run this one is nested under, e.g. the tuning run of a trial.</param>
    public RunWriter StartRun(string experiment, string name, string? parentRunId = null,
        IReadOnlyDictionary<string, string>? tags = null, CodeVersion? codeVersion = null)
    {
        if (string.IsNullOrWhiteSpace(experiment)) throw new ArgumentException("An experiment name is required.", nameof(experiment));
        if (parentRunId is not null && !File.Exists(RunFiles.MetaPath(Root, parentRunId)))
            throw new TrackingException($"Parent run {parentRunId} does not exist in {Root}; start the parent run first.");
        var experimentId = EnsureExperiment(experiment);

        var now = RunFiles.Now();
        var runId = $"{now:yyyyMMdd'T'HHmmssfff}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var meta = new RunMeta(runId, experimentId, experiment, string.IsNullOrWhiteSpace(name) ? runId : name,
            RunStatus.Running, now, null, null, parentRunId, codeVersion, ProcessOwner.Current);

        Directory.CreateDirectory(RunFiles.RunFolder(Root, runId));
        // Marker first: a crash right after leaves a marker the reaper cleans up, never an unreaped Running run.
        File.WriteAllBytes(Path.Combine(RunFiles.RunningFolder(Root), runId), []);
        RunFiles.WriteMeta(Root, meta);
        var writer = new RunWriter(Root, meta);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>()) writer.SetTag(key, value);
        return writer;
    }

    /// <summary>
    /// Tags a run after it ended, as MLflow allows (e.g. <c>candidate=true</c> on the best trial once the search
    /// is over): one more line appended to the run's event log; nothing written before is changed.
    /// </summary>
    public void SetTag(string runId, string key, string value)
    {
        if (!File.Exists(RunFiles.MetaPath(Root, runId)))
            throw new TrackingException($"Run {runId} does not exist in {Root}.");
        var seq = RunFiles.ReadEvents(Root, runId).Select(e => e.Seq).DefaultIfEmpty(0).Max() + 1;
        var line = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new RunEvent(runId, seq, RunFiles.Now(), "tag", key, Value: value), RunFiles.Json);
        using var events = new FileStream(RunFiles.EventsPath(Root, runId), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        events.Write([.. line, (byte)'\n']);
        events.Flush(flushToDisk: true);
    }

    /// <summary>Reads one run.</summary>
    /// <exception cref="TrackingException">No run with that id.</exception>
    public RunRecord GetRun(string runId)
    {
        var meta = (IsSafeId(runId) ? RunFiles.ReadMeta(Root, runId) : null)
                   ?? throw new TrackingException($"No run '{runId}' in {Root}. List runs with `ctb runs list`.");
        var events = RunFiles.ReadEvents(Root, runId).OrderBy(e => e.Seq).ToList();

        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var tags = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var history = new List<MetricPoint>();
        var inputs = new List<RunInput>();
        var artifacts = new Dictionary<string, RunArtifact>();
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case "param": parameters[e.Key] = e.Value ?? ""; break;
                case "tag": tags[e.Key] = e.Value ?? ""; break;
                case "metric": history.Add(new MetricPoint(e.Key, e.Num ?? double.NaN, e.Step ?? 0, e.Time)); break;
                case "input": inputs.Add(new RunInput(e.Key, e.Version ?? 0, e.Digest ?? "")); break;
                case "artifact": artifacts[e.Key] = new RunArtifact(e.Key, e.Path ?? e.Key, e.Size ?? 0, e.Sha256 ?? ""); break;
            }
        }
        // Latest = highest step, then last logged (history keeps log order, so a stable sort suffices).
        var latest = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var point in history.OrderBy(p => p.Step)) latest[point.Name] = point.Value;

        return new RunRecord(meta.Id, meta.ExperimentId, meta.Experiment, meta.Name, meta.Status, meta.StartTime,
            meta.EndTime, meta.Error, meta.ParentRunId, meta.CodeVersion, meta.Owner, parameters, latest, history,
            tags, inputs, artifacts.Values.ToList(), RunFiles.ArtifactsFolder(Root, runId));
    }

    /// <summary>
    /// Runs matching <paramref name="query"/>, filtered and ordered by DuckDB over the run files.
    /// </summary>
    /// <exception cref="TrackingException">The filter or order-by is not valid (the message shows the grammar).</exception>
    public IReadOnlyList<RunRecord> ListRuns(RunQuery? query = null) =>
        ListRunIds(query ?? new RunQuery()).Select(GetRun).ToList();

    /// <summary>The ids of the runs matching <paramref name="query"/>, in order.</summary>
    public IReadOnlyList<string> ListRunIds(RunQuery query)
    {
        if (query.Limit is < 0) throw new ArgumentException("Limit must not be negative.", nameof(query));
        var filter = new RunFilter();
        var where = filter.Where(query.Filter);
        var orderBy = filter.OrderBy(query.OrderBy);

        var runs = RunFiles.RunsFolder(Root);
        if (!Directory.Exists(runs) || !Directory.EnumerateFiles(runs, "meta.json", SearchOption.AllDirectories).Any()) return [];
        var hasEvents = Directory.EnumerateFiles(runs, "events.jsonl", SearchOption.AllDirectories).Any();

        var metaGlob = SqlLiteral(Path.Combine(runs, "*", "meta.json"));
        var eventsGlob = SqlLiteral(Path.Combine(runs, "*", "events.jsonl"));
        // ignore_errors skips a torn last line of events.jsonl, as RunFiles.ReadEvents does.
        var events = hasEvents
            ? $"SELECT * FROM read_json({eventsGlob}, format = 'newline_delimited', ignore_errors = true, " +
              "columns = {run: 'VARCHAR', seq: 'BIGINT', kind: 'VARCHAR', key: 'VARCHAR', value: 'VARCHAR', num: 'DOUBLE', step: 'BIGINT'})"
            : "SELECT NULL::VARCHAR AS run, NULL::BIGINT AS seq, NULL::VARCHAR AS kind, NULL::VARCHAR AS key, " +
              "NULL::VARCHAR AS value, NULL::DOUBLE AS num, NULL::BIGINT AS step WHERE FALSE";
        var sql = $"""
            WITH r AS (
                SELECT * FROM read_json({metaGlob}, format = 'auto',
                    columns = {"{"}id: 'VARCHAR', experiment: 'VARCHAR', name: 'VARCHAR', status: 'VARCHAR',
                               startTime: 'VARCHAR', endTime: 'VARCHAR', parentRunId: 'VARCHAR'{"}"})),
            ev AS ({events}),
            metric AS (SELECT run, key, num AS value FROM ev WHERE kind = 'metric'
                       QUALIFY row_number() OVER (PARTITION BY run, key ORDER BY step DESC, seq DESC) = 1),
            param AS (SELECT run, key, value FROM ev WHERE kind = 'param'
                      QUALIFY row_number() OVER (PARTITION BY run, key ORDER BY seq DESC) = 1),
            tag AS (SELECT run, key, value FROM ev WHERE kind = 'tag'
                    QUALIFY row_number() OVER (PARTITION BY run, key ORDER BY seq DESC) = 1)
            SELECT r.id FROM r
            WHERE {(query.Experiment is null ? "TRUE" : "r.experiment = $experiment")} AND ({where})
            ORDER BY {orderBy}
            {(query.Limit is { } limit ? $"LIMIT {limit}" : "")}
            """;

        using var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < filter.Parameters.Count; i++) command.Parameters.Add(new DuckDBParameter($"p{i}", filter.Parameters[i]));
        if (query.Experiment is not null) command.Parameters.Add(new DuckDBParameter("experiment", query.Experiment));
        var ids = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>Params and metrics of <paramref name="runIds"/> side by side, keys sorted.</summary>
    public RunComparison CompareRuns(IReadOnlyList<string> runIds)
    {
        var runs = runIds.Select(GetRun).ToList();
        var paramRows = runs.SelectMany(r => r.Params.Keys).Distinct().Order(StringComparer.Ordinal)
            .Select(k => new ComparisonRow<string?>(k, runs.Select(r => r.Params.GetValueOrDefault(k)).ToList())).ToList();
        var metricRows = runs.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal)
            .Select(k => new ComparisonRow<double?>(k, runs.Select(r => r.Metrics.TryGetValue(k, out var v) ? v : (double?)null).ToList()))
            .ToList();
        return new RunComparison(runs.Select(r => r.Id).ToList(), paramRows, metricRows);
    }

    /// <summary>Experiment names to ids.</summary>
    public IReadOnlyDictionary<string, string> Experiments()
    {
        var folder = RunFiles.ExperimentsFolder(Root);
        if (!Directory.Exists(folder)) return new Dictionary<string, string>();
        return Directory.EnumerateFiles(folder, "*.json")
            .Select(f => JsonSerializer.Deserialize<ExperimentFile>(File.ReadAllBytes(f), RunFiles.Json)!)
            .ToDictionary(e => e.Name, e => e.Id);
    }

    // The id derives from the name, so two processes creating the same experiment agree without a lock.
    private string EnsureExperiment(string name)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..12];
        var path = Path.Combine(RunFiles.ExperimentsFolder(Root), $"{id}.json");
        if (!File.Exists(path))
            AtomicFile.TryCreate(path, JsonSerializer.SerializeToUtf8Bytes(new ExperimentFile(id, name, RunFiles.Now()), RunFiles.IndentedJson));
        return id;
    }

    private static bool IsSafeId(string runId) =>
        runId.Length > 0 && runId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    // Paths are ours, not user input; quotes are still doubled so any folder name works.
    private static string SqlLiteral(string text) => $"'{text.Replace("'", "''")}'";
}
