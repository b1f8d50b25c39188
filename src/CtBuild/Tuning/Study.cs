using System.Diagnostics;

namespace CtBuild.Tuning;

/// <summary>
/// A tuning study: a search space, a sampler and a direction, with the record of its trials. Drive it with
/// <see cref="Optimize"/>, or trial by trial with <see cref="Ask"/> and <see cref="Tell"/>/<see cref="Fail"/>.
/// All members are thread-safe; the sampler is called under the study's lock.
/// </summary>
public sealed class Study
{
    private readonly object _gate = new();
    private readonly List<FrozenTrial> _trials = [];

    public Study(SearchSpace space, ISampler? sampler = null, StudyDirection direction = StudyDirection.Maximize, string name = "study")
    {
        Space = space;
        Sampler = sampler ?? new TpeSampler();
        Direction = direction;
        Name = name;
    }

    public string Name { get; }

    public SearchSpace Space { get; }

    public ISampler Sampler { get; }

    public StudyDirection Direction { get; }

    /// <summary>A snapshot of every trial, in number order; running trials included.</summary>
    public IReadOnlyList<FrozenTrial> Trials
    {
        get { lock (_gate) return _trials.ToArray(); }
    }

    /// <summary>The completed trial with the best value (the earliest on ties); null when none completed.</summary>
    public FrozenTrial? BestTrial
    {
        get { lock (_gate) return Best(_trials); }
    }

    /// <summary>Starts a trial with parameters from the sampler; the trial counts as running until told.</summary>
    public Trial Ask()
    {
        lock (_gate)
        {
            var parameters = Sampler.Sample(Space, _trials.ToArray(), Direction);
            var trial = new Trial(_trials.Count, parameters, DateTimeOffset.UtcNow);
            _trials.Add(new FrozenTrial(trial.Number, parameters, TrialState.Running, null,
                new Dictionary<string, double>(), null, null, trial.Start, null));
            return trial;
        }
    }

    /// <summary>Finishes a trial with the objective's outcome; a NaN or infinite value records it as failed.</summary>
    public FrozenTrial Tell(Trial trial, TrialOutcome outcome) => double.IsFinite(outcome.Value)
        ? Finish(trial, TrialState.Complete, outcome.Value, outcome, null)
        : Finish(trial, TrialState.Failed, null, outcome, $"the objective returned {outcome.Value}");

    /// <summary>Finishes a trial as failed with the reason.</summary>
    public FrozenTrial Fail(Trial trial, string error) => Finish(trial, TrialState.Failed, null, null, error);

    private FrozenTrial Finish(Trial trial, TrialState state, double? value, TrialOutcome? outcome, string? error)
    {
        lock (_gate)
        {
            if (trial.Number >= _trials.Count || _trials[trial.Number].State != TrialState.Running)
                throw new InvalidOperationException($"Trial #{trial.Number} of study '{Name}' is not running; it was already told or belongs to another study.");
            var frozen = _trials[trial.Number] with
            {
                State = state,
                Value = value,
                Metrics = outcome?.Metrics ?? new Dictionary<string, double>(),
                Attachment = outcome?.Attachment,
                Error = error,
                Duration = DateTimeOffset.UtcNow - trial.Start,
            };
            _trials[trial.Number] = frozen;
            return frozen;
        }
    }

    /// <summary>
    /// Runs the objective on <see cref="StudyOptions.Parallelism"/> workers until a stopping rule fires. A trial whose
    /// objective throws or returns NaN/∞ is recorded as failed with its error and the search goes on.
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
        private readonly HashSet<int> _numbers = [];
        private int _started, _finished, _sinceProgress;
        private double? _reference, _best;
        private StopReason? _stop;

        public StudyResult Execute()
        {
            using var budget = options.Budget is { } b ? new CancellationTokenSource(b) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, cancellationToken);
            _clock.Start();
            var workers = Enumerable.Range(0, options.Parallelism)
                .Select(_ => Task.Factory.StartNew(() => Work(linked.Token, budget.Token), TaskCreationOptions.LongRunning))
                .ToArray();
            // Unwraps a worker's exception (e.g. from the progress callback) instead of an AggregateException.
            Task.WhenAll(workers).GetAwaiter().GetResult();
            var all = study.Trials.Where(t => _numbers.Contains(t.Number)).ToArray();
            return new StudyResult(all, study.Best(all), _stop ?? StopReason.MaxEvals, _clock.Elapsed);
        }

        private void Work(CancellationToken token, CancellationToken budget)
        {
            while (true)
            {
                Trial trial;
                lock (_gate)
                {
                    _stop ??= cancellationToken.IsCancellationRequested ? StopReason.Cancelled
                        : budget.IsCancellationRequested ? StopReason.TimeBudget
                        : _started >= options.MaxEvals ? StopReason.MaxEvals
                        : null;
                    if (_stop is not null) return;
                    _started++;
                    trial = study.Ask();
                    _numbers.Add(trial.Number);
                }

                FrozenTrial frozen;
                try
                {
                    frozen = study.Tell(trial, objective(trial, token));
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    frozen = study.Fail(trial, budget.IsCancellationRequested ? "cancelled: the time budget ran out" : "cancelled");
                }
                catch (Exception e)
                {
                    frozen = study.Fail(trial, $"{e.GetType().Name}: {e.Message}");
                }
                Report(frozen);
            }
        }

        private void Report(FrozenTrial frozen)
        {
            TrialProgress report;
            lock (_gate)
            {
                _finished++;
                if (frozen.Value is { } value)
                {
                    if (_best is null || study.IsBetter(value, _best.Value)) _best = value;
                    // Progress is measured against the last value that counted, so many tiny gains do not reset patience.
                    double gain = _reference is null ? double.PositiveInfinity
                        : study.Direction == StudyDirection.Maximize ? value - _reference.Value : _reference.Value - value;
                    if (gain > 0 && gain >= options.MinImprovement) (_reference, _sinceProgress) = (value, 0);
                    else if (++_sinceProgress >= options.Patience) _stop ??= StopReason.NoProgress;
                }
                var elapsed = _clock.Elapsed;
                var remaining = elapsed / _finished * Math.Max(0, options.MaxEvals - _finished);
                if (options.Budget is { } b && b - elapsed < remaining) remaining = b - elapsed < TimeSpan.Zero ? TimeSpan.Zero : b - elapsed;
                report = new TrialProgress(_finished, options.MaxEvals, frozen, _best, elapsed, remaining);
            }
            progress?.Report(report);
        }
    }
}
