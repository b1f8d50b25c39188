namespace CtBuild.Tuning;

/// <summary>Where a trial is in its life.</summary>
public enum TrialState
{
    /// <summary>Asked for and not yet told: its objective is running.</summary>
    Running,

    /// <summary>Finished with a finite value.</summary>
    Complete,

    /// <summary>The objective threw or returned NaN/∞; <see cref="FrozenTrial.Error"/> says why.</summary>
    Failed,
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
