namespace CtBuild.Tuning;

/// <summary>
/// Proposes the parameters of the next trial from the trials so far. Samplers read snapshots only and own
/// their seeded random state; <see cref="Study"/> calls them one at a time, so they need no locking.
/// </summary>
public interface ISampler
{
    /// <summary>
    /// Values for every parameter active in <paramref name="space"/>: choices are sampled first, then the
    /// parameters of the chosen branch. <paramref name="trials"/> holds every trial, running ones included.
    /// </summary>
    IReadOnlyDictionary<string, object> Sample(SearchSpace space, IReadOnlyList<FrozenTrial> trials, StudyDirection direction);
}
