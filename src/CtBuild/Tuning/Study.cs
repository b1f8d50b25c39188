using System.Collections.Concurrent;
using System.Diagnostics;
using CtBuild.Tracking;

namespace CtBuild.Tuning;

/// <summary>
/// A tuning study: a search space, a sampler and a direction over the trials kept in an <see cref="IStudyStorage"/>.
/// Drive it with <see cref="Optimize"/>, or trial by trial with <see cref="Ask"/> and <see cref="Tell"/>/<see cref="Fail"/>.
/// Several studies (threads, processes, machines) with the same identity and storage share one set of trials.
/// All members are thread-safe; the sampler is called inside the storage's claim, one call at a time per process.
/// </summary>
public sealed class Study
{
    private readonly ConcurrentDictionary<int, object> _attachments = new(); // fitted models stay in the process that made them
    private readonly object _sampleGate = new();

    /// <summary>A study in memory only, named <paramref name="name"/>.</summary>
    public Study(SearchSpace space, ISampler? sampler = null, StudyDirection direction = StudyDirection.Maximize, string name = "study")
        : this(space, sampler ?? new TpeSampler(), new InMemoryStudyStorage(), new StudyIdentity(name, direction, new Dictionary<string, string>()))
    {
    }

    /// <summary>Creates the study in <paramref name="storage"/>, or joins it when it exists with the same identity.</summary>
    /// <exception cref="StudyMismatchException">The stored study of that name was made from other inputs.</exception>
    public Study(SearchSpace space, ISampler sampler, IStudyStorage storage, StudyIdentity identity)
    {
        Space = space;
        Sampler = sampler;
        Storage = storage;
        Identity = identity;
        storage.CreateOrJoin(identity);
    }

    public string Name => Identity.Name;

    public StudyIdentity Identity { get; }

    public SearchSpace Space { get; }

    public ISampler Sampler { get; }

    public IStudyStorage Storage { get; }

    public StudyDirection Direction => Identity.Direction;

    /// <summary>
    /// Successive halving: what <see cref="Trial.ShouldPrune"/> asks. Null = every trial runs on all rows.
    /// </summary>
    public SuccessiveHalving? Pruner { get; init; }

    /// <summary>Who this process is to the storage (its running trials are failed as abandoned once it has ended).</summary>
    public ProcessOwner Worker { get; init; } = ProcessOwner.Current;

    /// <summary>A snapshot of every trial, in number order; running trials included.</summary>
    public IReadOnlyList<FrozenTrial> Trials => Storage.Trials(Name).Select(WithAttachment).ToArray();

    /// <summary>The completed trial with the best value (the earliest on ties); null when none completed.</summary>
    public FrozenTrial? BestTrial => Best(Trials);

    /// <summary>Starts a trial with parameters from the sampler; the trial counts as running until told.</summary>
    public Trial Ask() => TryAsk(null) ?? throw new InvalidOperationException("The storage claimed no trial.");

    /// <summary>
    /// Claims a trial unless the study already has <paramref name="maxEvals"/> trials that count (abandoned ones do not:
    /// their retry does). An abandoned trial's parameters are run again once before the sampler is asked for new ones.
    /// </summary>
    internal Trial? TryAsk(int? maxEvals)
    {
        var claimed = Storage.Claim(Name, Worker, trials =>
        {
            if (maxEvals is { } max && trials.Count(t => !t.IsAbandoned) >= max) return null;
            var retried = trials.Where(t => t.RetryOf is not null).Select(t => t.RetryOf!.Value).ToHashSet();
            if (trials.FirstOrDefault(t => t.IsAbandoned && t.RetryOf is null && !retried.Contains(t.Number)) is { } abandoned)
                return new TrialProposal(abandoned.Params, abandoned.Number);
            lock (_sampleGate) return new TrialProposal(Sampler.Sample(Space, trials, Direction));
        });
        return claimed is null ? null : new Trial(claimed.Number, claimed.Params, claimed.Start, this);
    }

    /// <summary>Finishes a trial with the objective's outcome; a NaN or infinite value records it as failed.</summary>
    public FrozenTrial Tell(Trial trial, TrialOutcome outcome)
    {
        if (!double.IsFinite(outcome.Value))
            return Finish(trial, TrialState.Failed, null, outcome, $"the objective returned {outcome.Value}");
        if (outcome.Attachment is { } attachment) _attachments[trial.Number] = attachment;
        return Finish(trial, TrialState.Complete, outcome.Value, outcome, null);
    }

    /// <summary>Finishes a trial as failed with the reason.</summary>
    public FrozenTrial Fail(Trial trial, string error) => Finish(trial, TrialState.Failed, null, null, error);

    /// <summary>Finishes a trial that ran past its timeout; it counts as a bad result to the sampler.</summary>
    public FrozenTrial TimeOut(Trial trial, TimeSpan timeout) =>
        Finish(trial, TrialState.TimedOut, null, null, $"timed out: still running after {timeout.TotalSeconds:0.#} s", timeout);

    /// <summary>Finishes a trial stopped early (successive halving), with the reason and the training seconds it spent.</summary>
    public FrozenTrial Prune(Trial trial, string reason, double? cost = null) =>
        Finish(trial, TrialState.Pruned, null, new TrialOutcome(double.NaN) { Cost = cost }, reason);

    internal void ReportIntermediate(int number, int step, double value) => Storage.ReportIntermediate(Name, number, step, value);

    // Reads the rung values of every trial from the storage: the decision is the same on every worker and machine.
    internal bool ShouldPrune(int number, int step) =>
        Pruner is { } halving && step < halving.LastRung && !halving.Promotes(Storage.Trials(Name), number, step, Direction);

    // The timeout timer and the wall clock can disagree by a millisecond: a timed-out trial ran at least its timeout.
    private FrozenTrial Finish(Trial trial, TrialState state, double? value, TrialOutcome? outcome, string? error,
        TimeSpan? ranAtLeast = null)
    {
        var current = Storage.Trials(Name).FirstOrDefault(t => t.Number == trial.Number);
        if (current is null || current.State != TrialState.Running || current.Start != trial.Start)
            throw new InvalidOperationException($"Trial #{trial.Number} of study '{Name}' is not running; it was already told or belongs to another study.");
        var duration = DateTimeOffset.UtcNow - trial.Start;
        if (ranAtLeast is { } least && duration < least) duration = least;
        var recorded = Storage.Finish(Name, trial.Number, new TrialFinish(state, value,
            outcome?.Metrics ?? new Dictionary<string, double>(), error, duration, outcome?.Cost));
        return WithAttachment(recorded);
    }

    private FrozenTrial WithAttachment(FrozenTrial t) =>
        t.State == TrialState.Complete && _attachments.TryGetValue(t.Number, out var a) ? t with { Attachment = a } : t;

    /// <summary>
    /// Runs the objective on <see cref="StudyOptions.Parallelism"/> workers until the study has
    /// <see cref="StudyOptions.MaxEvals"/> trials (counting those already stored: a resumed study runs only the rest) or
    /// another stopping rule fires. A trial whose objective throws or returns NaN/∞ is recorded as failed; one that runs
    /// past <see cref="StudyOptions.TrialTimeout"/> is recorded as timed out and its worker moves on at once; one that throws
    /// <see cref="TrialPrunedException"/> (after <see cref="Trial.ShouldPrune"/>) is recorded as pruned.
    /// <paramref name="progress"/> is told after each finished trial.
    /// </summary>
    public StudyResult Optimize(Func<Trial, CancellationToken, TrialOutcome> objective, StudyOptions options,
        IProgress<TrialProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var run = new OptimizeRun(this, objective, options, progress, cancellationToken);
        return run.Execute();
    }

    internal bool IsBetter(double value, double than) => Direction == StudyDirection.Maximize ? value > than : value < than;

    private FrozenTrial? Best(IEnumerable<FrozenTrial> trials)
    {
        FrozenTrial? best = null;
        foreach (var t in trials)
            if (t.State == TrialState.Complete && (best is null || IsBetter(t.Value!.Value, best.Value!.Value)))
                best = t;
        return best;
    }

    /// <summary>The state of one <see cref="Optimize"/> call: counters and stopping rules, guarded by one lock.</summary>
    private sealed class OptimizeRun(Study study, Func<Trial, CancellationToken, TrialOutcome> objective, StudyOptions options,
        IProgress<TrialProgress>? progress, CancellationToken cancellationToken)
    {
        private readonly object _gate = new();
        private readonly Stopwatch _clock = new();
        private readonly ConcurrentDictionary<int, Trial> _running = new();
        private int _finished, _sinceProgress, _finishedBefore;
        private double? _reference, _best;
        private StopReason? _stop;

        public StudyResult Execute()
        {
            using var budget = options.Budget is { } b ? new CancellationTokenSource(b) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, cancellationToken);
            _clock.Start();
            study.Storage.FailStale(study.Name, options.HeartbeatTimeout);
            Replay(study.Trials);
            using var heartbeat = new Timer(_ => Heartbeat(), null, options.HeartbeatInterval, options.HeartbeatInterval);
            var workers = Enumerable.Range(0, options.Parallelism)
                .Select(_ => Task.Factory.StartNew(() => Work(linked.Token, budget.Token), TaskCreationOptions.LongRunning))
                .ToArray();
            // Unwraps a worker's exception (e.g. from the progress callback) instead of an AggregateException.
            Task.WhenAll(workers).GetAwaiter().GetResult();
            var all = study.Trials;
            return new StudyResult(all, study.Best(all), _stop ?? StopReason.MaxEvals, _clock.Elapsed);
        }

        // A resumed study picks up its best value and patience count where the stored trials leave them.
        private void Replay(IReadOnlyList<FrozenTrial> stored)
        {
            foreach (var trial in stored.Where(t => t.State.IsFinished() && !t.IsAbandoned)) Count(trial);
            _finishedBefore = _finished;
        }

        private void Heartbeat()
        {
            foreach (var number in _running.Keys)
            {
                try { study.Storage.Heartbeat(study.Name, number); }
                catch (Exception e) when (e is IOException or InvalidOperationException or CtBuildException) { } // the next beat tries again
            }
        }

        private void Work(CancellationToken token, CancellationToken budget)
        {
            while (true)
            {
                Trial? trial = null;
                lock (_gate)
                {
                    _stop ??= cancellationToken.IsCancellationRequested ? StopReason.Cancelled
                        : budget.IsCancellationRequested ? StopReason.TimeBudget
                        : null;
                    if (_stop is not null) return;
                }
                study.Storage.FailStale(study.Name, options.HeartbeatTimeout);
                var timeout = options.TrialTimeout?.Invoke(study.Trials);
                trial = study.TryAsk(options.MaxEvals);
                if (trial is null && options.WaitForOtherWorkers
                    && study.Trials.Any(t => t.State == TrialState.Running && !_running.ContainsKey(t.Number)))
                {
                    // Another worker's trial may still finish, or be failed as stale and come back to us as a retry.
                    token.WaitHandle.WaitOne(options.PollInterval);
                    continue;
                }
                if (trial is null)
                {
                    lock (_gate) _stop ??= StopReason.MaxEvals;
                    return;
                }
                _running[trial.Number] = trial;
                var frozen = Run(trial, timeout, token, budget);
                _running.TryRemove(trial.Number, out _);
                Report(frozen);
            }
        }

        // The objective runs on its own thread so that a trial past its timeout frees this worker at once; the
        // cancelled objective ends by itself (ML.NET trainers check the token between iterations).
        private FrozenTrial Run(Trial trial, TimeSpan? timeout, CancellationToken token, CancellationToken budget)
        {
            var trialToken = CancellationTokenSource.CreateLinkedTokenSource(token);
            if (timeout is { } t) trialToken.CancelAfter(t);
            var task = Task.Factory.StartNew(() => objective(trial, trialToken.Token), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
            try
            {
                Task.WaitAny([task], trialToken.Token);
            }
            catch (OperationCanceledException)
            {
            }
            if (!task.IsCompleted)
            {
                _ = task.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted); // observed, never rethrown
                return Record(trial, () => Cancelled(trial, timeout, token, budget));
            }
            trialToken.Dispose();
            TrialOutcome outcome;
            try
            {
                outcome = task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return Record(trial, () => Cancelled(trial, timeout, token, budget));
            }
            catch (TrialPrunedException e)
            {
                return Record(trial, () => study.Prune(trial, e.Message, e.Cost));
            }
            catch (Exception e)
            {
                return Record(trial, () => study.Fail(trial, $"{e.GetType().Name}: {e.Message}"));
            }
            return Record(trial, () => study.Tell(trial, outcome));
        }

        // A slow trial may have been failed as stale by another worker meanwhile: the first record stands.
        private FrozenTrial Record(Trial trial, Func<FrozenTrial> finish)
        {
            try
            {
                return finish();
            }
            catch (InvalidOperationException) when (study.Storage.Trials(study.Name).FirstOrDefault(t => t.Number == trial.Number) is { State: not TrialState.Running } stored)
            {
                return stored;
            }
        }

        private FrozenTrial Cancelled(Trial trial, TimeSpan? timeout, CancellationToken token, CancellationToken budget) =>
            budget.IsCancellationRequested ? study.Fail(trial, "cancelled: the time budget ran out")
            : token.IsCancellationRequested ? study.Fail(trial, "cancelled")
            : timeout is { } t ? study.TimeOut(trial, t)
            : study.Fail(trial, "cancelled");

        private void Count(FrozenTrial frozen)
        {
            _finished++;
            if (frozen.State != TrialState.Complete || frozen.Value is not { } value) return;
            if (_best is null || study.IsBetter(value, _best.Value)) _best = value;
            // Progress is measured against the last value that counted, so many tiny gains do not reset patience.
            double gain = _reference is null ? double.PositiveInfinity
                : study.Direction == StudyDirection.Maximize ? value - _reference.Value : _reference.Value - value;
            if (gain > 0 && gain >= options.MinImprovement) (_reference, _sinceProgress) = (value, 0);
            else if (++_sinceProgress >= options.Patience) _stop ??= StopReason.NoProgress;
        }

        private void Report(FrozenTrial frozen)
        {
            TrialProgress report;
            lock (_gate)
            {
                Count(frozen);
                var elapsed = _clock.Elapsed;
                int here = _finished - _finishedBefore;
                var remaining = elapsed / here * Math.Max(0, options.MaxEvals - _finished);
                if (options.Budget is { } b && b - elapsed < remaining) remaining = b - elapsed < TimeSpan.Zero ? TimeSpan.Zero : b - elapsed;
                report = new TrialProgress(_finished, options.MaxEvals, frozen, _best, elapsed, remaining);
            }
            progress?.Report(report);
        }
    }
}
