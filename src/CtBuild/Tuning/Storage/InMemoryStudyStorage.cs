using CtBuild.Tracking;

namespace CtBuild.Tuning;

/// <summary>Trials kept in this process only, under one lock: for tests, benchmarks and throw-away studies.</summary>
public sealed class InMemoryStudyStorage(TimeProvider? clock = null) : IStudyStorage
{
    private readonly object _gate = new();
    private readonly Dictionary<string, StudyRecord> _studies = [];
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private sealed class StudyRecord(StudyIdentity identity)
    {
        public StudyIdentity Identity { get; } = identity;
        public List<FrozenTrial> Trials { get; } = [];
        public Dictionary<int, DateTimeOffset> Heartbeats { get; } = [];
        public Dictionary<int, ProcessOwner> Owners { get; } = [];
    }

    public void CreateOrJoin(StudyIdentity identity)
    {
        lock (_gate)
        {
            if (_studies.TryGetValue(identity.Name, out var existing)) identity.RequireSameAs(existing.Identity, "in memory");
            else _studies[identity.Name] = new StudyRecord(identity);
        }
    }

    public FrozenTrial? Claim(string study, ProcessOwner worker, Func<IReadOnlyList<FrozenTrial>, TrialProposal?> propose)
    {
        lock (_gate)
        {
            var record = Get(study);
            if (propose(record.Trials.ToArray()) is not { } proposal) return null;
            var now = _clock.GetUtcNow();
            var trial = new FrozenTrial(record.Trials.Count, proposal.Params, TrialState.Running, null,
                new Dictionary<string, double>(), null, null, now, null) { Worker = worker.ToString(), RetryOf = proposal.RetryOf };
            record.Trials.Add(trial);
            record.Heartbeats[trial.Number] = now;
            record.Owners[trial.Number] = worker;
            return trial;
        }
    }

    public void Heartbeat(string study, int number)
    {
        lock (_gate)
        {
            var record = Get(study);
            if (Trial(record, study, number).State == TrialState.Running) record.Heartbeats[number] = _clock.GetUtcNow();
        }
    }

    public void ReportIntermediate(string study, int number, int step, double value)
    {
        lock (_gate)
        {
            var record = Get(study);
            var trial = Trial(record, study, number);
            if (trial.State != TrialState.Running || trial.Intermediate.ContainsKey(step)) return;
            record.Trials[number] = trial with { Intermediate = new Dictionary<int, double>(trial.Intermediate) { [step] = value } };
        }
    }

    public FrozenTrial Finish(string study, int number, TrialFinish finish)
    {
        finish.Validate();
        lock (_gate)
        {
            var record = Get(study);
            var trial = Trial(record, study, number);
            if (trial.State != TrialState.Running) return trial;
            return record.Trials[number] = TrialJson.Apply(trial, finish);
        }
    }

    public IReadOnlyList<FrozenTrial> Trials(string study)
    {
        lock (_gate) return Get(study).Trials.ToArray();
    }

    public IReadOnlyList<FrozenTrial> FailStale(string study, TimeSpan heartbeatTimeout)
    {
        lock (_gate)
        {
            var record = Get(study);
            var now = _clock.GetUtcNow();
            var failed = new List<FrozenTrial>();
            foreach (var trial in record.Trials.Where(t => t.State == TrialState.Running).ToArray())
            {
                if (TrialFinish.Abandoned(trial, record.Owners[trial.Number].IsGone(), now - record.Heartbeats[trial.Number], heartbeatTimeout, now) is not { } finish) continue;
                failed.Add(record.Trials[trial.Number] = TrialJson.Apply(trial, finish));
            }
            return failed;
        }
    }

    private StudyRecord Get(string study) => _studies.TryGetValue(study, out var record) ? record
        : throw new InvalidOperationException($"No study '{study}' in this storage; call CreateOrJoin first.");

    private static FrozenTrial Trial(StudyRecord record, string study, int number) => number >= 0 && number < record.Trials.Count
        ? record.Trials[number]
        : throw new InvalidOperationException($"Study '{study}' has no trial #{number}; it has {record.Trials.Count}.");
}
