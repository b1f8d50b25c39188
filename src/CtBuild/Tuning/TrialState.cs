namespace CtBuild.Tuning;

/// <summary>Where a trial is in its life.</summary>
public enum TrialState
{
    /// <summary>Claimed and not yet finished: its objective is running (or its worker died, until it is failed as stale).</summary>
    Running,

    /// <summary>Finished with a finite value.</summary>
    Complete,

    /// <summary>The objective threw or returned NaN/∞, or its worker stopped sending heartbeats; <see cref="FrozenTrial.Error"/> says why.</summary>
    Failed,

    /// <summary>Stopped after running longer than the trial timeout; counts as a bad result to the sampler.</summary>
    TimedOut,

    /// <summary>Stopped early by successive halving at a rung; its rung values are in <see cref="FrozenTrial.Intermediate"/>.</summary>
    Pruned,
}

/// <summary>Whether the study looks for the largest value (AUC) or the smallest (loss, regret).</summary>
public enum StudyDirection { Maximize, Minimize }

/// <summary>Why <see cref="Study.Optimize"/> stopped.</summary>
public enum StopReason
{
    /// <summary>All <see cref="StudyOptions.MaxEvals"/> trials ran.</summary>
    MaxEvals,

    /// <summary>The <see cref="StudyOptions.Budget"/> ran out.</summary>
    TimeBudget,

    /// <summary><see cref="StudyOptions.Patience"/> completed trials in a row did not improve the best by <see cref="StudyOptions.MinImprovement"/>.</summary>
    NoProgress,

    /// <summary>The caller's cancellation token was cancelled.</summary>
    Cancelled,
}

public static class TrialStateExtensions
{
    /// <summary>True for every state but <see cref="TrialState.Running"/>: the trial's record no longer changes.</summary>
    public static bool IsFinished(this TrialState state) => state != TrialState.Running;

    /// <summary>Complete, timed out or pruned: a result TPE ranks and whose cost it counts (failed trials are ignored).</summary>
    public static bool IsResult(this TrialState state) => state is TrialState.Complete or TrialState.TimedOut or TrialState.Pruned;
}
