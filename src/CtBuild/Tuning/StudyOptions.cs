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

    /// <summary>Throws <see cref="ArgumentException"/> naming every invalid setting.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (MaxEvals < 1) errors.Add($"MaxEvals must be >= 1, but got {MaxEvals}");
        if (Budget is { } b && b <= TimeSpan.Zero) errors.Add($"Budget must be positive, but got {b}");
        if (Patience is < 1) errors.Add($"Patience must be >= 1, but got {Patience}");
        if (MinImprovement < 0 || !double.IsFinite(MinImprovement)) errors.Add($"MinImprovement must be finite and >= 0, but got {MinImprovement}");
        if (Parallelism < 1) errors.Add($"Parallelism must be >= 1, but got {Parallelism}");
        if (errors.Count > 0) throw new ArgumentException("Invalid study options: " + string.Join("; ", errors) + ".");
    }
}

/// <summary>What <see cref="Study.Optimize"/> did: every trial, the best one and why it stopped.</summary>
public sealed record StudyResult(IReadOnlyList<FrozenTrial> Trials, FrozenTrial? BestTrial, StopReason StopReason, TimeSpan Elapsed);
