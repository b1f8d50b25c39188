namespace CtBuild.Tuning;

/// <summary>How long <see cref="Study.Optimize"/> runs and how many trials run at once.</summary>
public sealed record StudyOptions
{
    /// <summary>Most trials to start (failed ones count).</summary>
    public int MaxEvals { get; init; } = 50;

    /// <summary>Wall-clock budget: no trial starts after it, and running trials see their token cancelled.</summary>
    public TimeSpan? Budget { get; init; }

    /// <summary>Stop after this many completed trials in a row that do not improve the best by <see cref="MinImprovement"/>; null = never.</summary>
    public int? Patience { get; init; }

    /// <summary>The smallest gain over the best that counts as progress for <see cref="Patience"/> (0 = any strict gain).</summary>
    public double MinImprovement { get; init; }

    /// <summary>Trials evaluated concurrently.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The longest a trial may run, given the trials so far (e.g. <see cref="TrialTimeouts.Derived"/>); null = no limit.
    /// A trial past it is recorded as <see cref="TrialState.TimedOut"/>, its token is cancelled and its worker moves on at once.
    /// </summary>
    public Func<IReadOnlyList<FrozenTrial>, TimeSpan?>? TrialTimeout { get; init; }

    /// <summary>How often a running trial tells the storage it is alive.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A running trial with no heartbeat for this long is failed as abandoned and its parameters retried once.</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// When the budget is spent but trials of other workers (processes, machines) are still running, wait for them,
    /// failing stale ones and retrying their parameters, instead of returning: what the Tune stage does before it
    /// picks the best over all workers. A plain worker leaves at once.
    /// </summary>
    public bool WaitForOtherWorkers { get; init; }

    /// <summary>How often a waiting worker looks at the study again (see <see cref="WaitForOtherWorkers"/>).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming every invalid setting.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (MaxEvals < 1) errors.Add($"MaxEvals must be >= 1, but got {MaxEvals}");
        if (Budget is { } b && b <= TimeSpan.Zero) errors.Add($"Budget must be positive, but got {b}");
        if (Patience is < 1) errors.Add($"Patience must be >= 1, but got {Patience}");
        if (MinImprovement < 0 || !double.IsFinite(MinImprovement)) errors.Add($"MinImprovement must be finite and >= 0, but got {MinImprovement}");
        if (Parallelism < 1) errors.Add($"Parallelism must be >= 1, but got {Parallelism}");
        if (HeartbeatInterval <= TimeSpan.Zero) errors.Add($"HeartbeatInterval must be positive, but got {HeartbeatInterval}");
        if (HeartbeatTimeout <= HeartbeatInterval) errors.Add($"HeartbeatTimeout must be longer than HeartbeatInterval ({HeartbeatInterval}), but got {HeartbeatTimeout}");
        if (errors.Count > 0) throw new ArgumentException("Invalid study options: " + string.Join("; ", errors) + ".");
    }
}

/// <summary>What <see cref="Study.Optimize"/> did: every trial, the best one and why it stopped.</summary>
public sealed record StudyResult(IReadOnlyList<FrozenTrial> Trials, FrozenTrial? BestTrial, StopReason StopReason, TimeSpan Elapsed);

/// <summary>Trial timeouts for <see cref="StudyOptions.TrialTimeout"/>.</summary>
public static class TrialTimeouts
{
    /// <summary>
    /// <paramref name="multiple"/> × the median duration of the completed trials, at least <paramref name="floor"/>;
    /// no limit until <paramref name="minCompleted"/> trials have completed (the first trials set the scale).
    /// </summary>
    public static Func<IReadOnlyList<FrozenTrial>, TimeSpan?> Derived(double multiple = 5, TimeSpan? floor = null, int minCompleted = 3) => trials =>
    {
        var durations = trials.Where(t => t.State == TrialState.Complete && t.Duration is not null)
            .Select(t => t.Duration!.Value.TotalSeconds).Order().ToArray();
        if (durations.Length < minCompleted) return null;
        double median = durations.Length % 2 == 1 ? durations[durations.Length / 2]
            : (durations[durations.Length / 2 - 1] + durations[durations.Length / 2]) / 2;
        var derived = TimeSpan.FromSeconds(median * multiple);
        var min = floor ?? TimeSpan.FromSeconds(30);
        return derived > min ? derived : min;
    };

    /// <summary>The same limit for every trial.</summary>
    public static Func<IReadOnlyList<FrozenTrial>, TimeSpan?> Fixed(TimeSpan timeout) => _ => timeout;
}
