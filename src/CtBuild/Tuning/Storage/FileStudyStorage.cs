using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CtBuild.Storage;
using CtBuild.Tracking;

namespace CtBuild.Tuning;

/// <summary>
/// The embedded study store: plain files under one folder (the workspace's <c>.ctb/studies</c>), written by
/// create-if-absent, so the folder is an append-only log that several processes on one machine (or a shared folder)
/// can use at once and a killed process never leaves half a record:
/// <code>
/// &lt;study&gt;/study.json                  identity (name, direction, inputs, their hash), format version
/// &lt;study&gt;/trials/000042.claim.json    number, parameters, start, worker: the atomic claim of the number
/// &lt;study&gt;/trials/000042.step-1.json   a rung value (steps 0, 1, … in order)
/// &lt;study&gt;/trials/000042.heartbeat     last sign of life (the only file rewritten, atomically)
/// &lt;study&gt;/trials/000042.finish.json   state, value, metrics, error, duration, cost: the first finish wins
/// </code>
/// Immutable files are parsed once per instance, so reading a study of n trials lists one folder and parses only what is new.
/// </summary>
public sealed class FileStudyStorage : IStudyStorage
{
    /// <summary>The layout version written to study.json; a study with a higher one was made by a newer CtBuild.</summary>
    public const int Format = 1;

    private readonly ConcurrentDictionary<string, object> _parsed = new(); // path → FrozenTrial (claim, or "#finished"), TrialFinish or a step's value
    private readonly ConcurrentDictionary<string, object> _claimGates = new();
    private readonly TimeProvider _clock;

    public FileStudyStorage(string root, TimeProvider? clock = null)
    {
        Root = Path.GetFullPath(root);
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The folder that holds one sub-folder per study.</summary>
    public string Root { get; }

    /// <summary>The folder of one study.</summary>
    public string StudyDir(string study) => Path.Combine(Root, study);

    public void CreateOrJoin(StudyIdentity identity)
    {
        var path = Path.Combine(StudyDir(identity.Name), "study.json");
        var json = TrialJson.WriteIdentity(identity);
        json["format"] = Format;
        if (AtomicFile.TryCreate(path, TrialJson.ToBytes(json)))
        {
            Directory.CreateDirectory(TrialsDir(identity.Name));
            return;
        }
        var stored = ReadJson(path);
        int format = stored["format"]?.GetValue<int>() ?? 0;
        if (format > Format)
            throw new CtBuildException($"Study '{identity.Name}' at {path} has layout version {format}, written by a newer CtBuild (this one reads up to {Format}). Update ctb, or use another study.", 2);
        identity.RequireSameAs(TrialJson.ReadIdentity(stored), path);
        Directory.CreateDirectory(TrialsDir(identity.Name));
    }

    public FrozenTrial? Claim(string study, ProcessOwner worker, Func<IReadOnlyList<FrozenTrial>, TrialProposal?> propose)
    {
        RequireStudy(study);
        // One claimer per study in this process; other processes are kept apart by create-if-absent of the claim file.
        lock (_claimGates.GetOrAdd(study, _ => new object()))
        {
            while (true)
            {
                var trials = Trials(study);
                if (propose(trials) is not { } proposal) return null;
                int number = trials.Count == 0 ? 0 : trials[^1].Number + 1;
                var trial = new FrozenTrial(number, proposal.Params, TrialState.Running, null, new Dictionary<string, double>(), null, null,
                    _clock.GetUtcNow(), null) { Worker = worker.ToString(), RetryOf = proposal.RetryOf };
                var json = TrialJson.WriteClaim(trial);
                json["owner"] = TrialJson.WriteOwner(worker);
                if (AtomicFile.TryCreate(TrialFile(study, number, "claim.json"), TrialJson.ToBytes(json))) return trial;
            }
        }
    }

    public void Heartbeat(string study, int number)
    {
        RequireTrial(study, number);
        AtomicFile.WriteAllText(TrialFile(study, number, "heartbeat"), _clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
    }

    public void ReportIntermediate(string study, int number, int step, double value)
    {
        RequireTrial(study, number);
        var json = new JsonObject { ["step"] = step, ["value"] = value.ToString("R", CultureInfo.InvariantCulture) };
        AtomicFile.TryCreate(TrialFile(study, number, $"step-{step}.json"), TrialJson.ToBytes(json));
    }

    public FrozenTrial Finish(string study, int number, TrialFinish finish)
    {
        finish.Validate();
        RequireTrial(study, number);
        AtomicFile.TryCreate(TrialFile(study, number, "finish.json"), TrialJson.ToBytes(TrialJson.WriteFinish(finish)));
        return Trials(study).First(t => t.Number == number);
    }

    public IReadOnlyList<FrozenTrial> Trials(string study)
    {
        RequireStudy(study);
        // Files are probed by name, not listed: numbers and steps are contiguous, and a directory listing taken while
        // other processes rename files into the folder may miss some. A finished trial is read once per instance.
        var trials = new List<FrozenTrial>();
        for (int number = 0; ; number++)
        {
            var claimPath = TrialFile(study, number, "claim.json");
            if (_parsed.TryGetValue(claimPath + "#finished", out var done))
            {
                trials.Add((FrozenTrial)done);
                continue;
            }
            if (!File.Exists(claimPath)) break;
            var trial = (FrozenTrial)Parsed(claimPath, j => TrialJson.ReadClaim(j));
            var steps = new Dictionary<int, double>();
            for (int step = 0; File.Exists(TrialFile(study, number, $"step-{step}.json")); step++)
                steps[step] = (double)Parsed(TrialFile(study, number, $"step-{step}.json"),
                    j => double.Parse(j["value"]!.GetValue<string>(), CultureInfo.InvariantCulture));
            if (steps.Count > 0) trial = trial with { Intermediate = steps };
            var finishPath = TrialFile(study, number, "finish.json");
            if (File.Exists(finishPath))
                trial = (FrozenTrial)_parsed.GetOrAdd(claimPath + "#finished", TrialJson.Apply(trial, (TrialFinish)Parsed(finishPath, TrialJson.ReadFinish)));
            trials.Add(trial);
        }
        return trials;
    }

    public IReadOnlyList<FrozenTrial> FailStale(string study, TimeSpan heartbeatTimeout)
    {
        var failed = new List<FrozenTrial>();
        var now = _clock.GetUtcNow();
        foreach (var trial in Trials(study).Where(t => t.State == TrialState.Running))
        {
            var claim = ReadJson(TrialFile(study, trial.Number, "claim.json"));
            var owner = claim["owner"] is JsonObject o ? TrialJson.ReadOwner(o) : null;
            if (TrialFinish.Abandoned(trial, owner?.IsGone() == true, now - LastHeartbeat(study, trial), heartbeatTimeout, now) is not { } finish) continue;
            if (AtomicFile.TryCreate(TrialFile(study, trial.Number, "finish.json"), TrialJson.ToBytes(TrialJson.WriteFinish(finish))))
                failed.Add(TrialJson.Apply(trial, finish));
        }
        return failed;
    }

    private DateTimeOffset LastHeartbeat(string study, FrozenTrial trial)
    {
        try
        {
            var text = File.ReadAllText(TrialFile(study, trial.Number, "heartbeat"), Encoding.UTF8);
            return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FileNotFoundException or FormatException)
        {
            return trial.Start;
        }
    }

    private object Parsed(string path, Func<JsonObject, object> read) => _parsed.GetOrAdd(path, p => read(ReadJson(p)));

    private static JsonObject ReadJson(string path)
    {
        try
        {
            return TrialJson.Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            throw new CtBuildException($"Study file {path} is not valid: {e.Message}. It was not written by CtBuild's study store; remove the study folder to start it again.", 1, e);
        }
    }

    private void RequireStudy(string study)
    {
        if (!Directory.Exists(TrialsDir(study))) throw new InvalidOperationException($"No study '{study}' under {Root}; call CreateOrJoin first.");
    }

    private void RequireTrial(string study, int number)
    {
        if (!File.Exists(TrialFile(study, number, "claim.json")))
            throw new InvalidOperationException($"Study '{study}' under {Root} has no trial #{number}.");
    }

    private string TrialsDir(string study) => Path.Combine(StudyDir(study), "trials");

    private string TrialFile(string study, int number, string kind) =>
        Path.Combine(TrialsDir(study), number.ToString("D6", CultureInfo.InvariantCulture) + "." + kind);
}
