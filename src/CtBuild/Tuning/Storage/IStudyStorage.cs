using CtBuild.Tracking;

namespace CtBuild.Tuning;

/// <summary>
/// Where a study's trials live: the seam between <see cref="Study"/> (the loop), the <see cref="ISampler"/> (what to
/// try next) and the record of trials, as in Optuna's study / sampler / storage split. Implementations:
/// <see cref="InMemoryStudyStorage"/> (one process, nothing kept), <see cref="FileStudyStorage"/> (the embedded
/// default under the workspace state folder; what makes a killed Tune resumable), and a server-backed one for
/// trials on many machines.
/// </summary>
/// <remarks>
/// Contract, for every implementation (the shared tests in <c>StudyStorageConformanceTests</c> check it):
/// <list type="bullet">
/// <item>Every member is safe to call from many threads and, for a shared backend, many processes.</item>
/// <item>Returned <see cref="FrozenTrial"/>s are snapshots: later writes never change them. A finished trial's record never changes.</item>
/// <item>Trial numbers are 0, 1, 2, … in claim order; two claims never get the same number.</item>
/// <item>The first finish of a trial wins (the worker's own, or a stale-fail by <see cref="FailStale"/>); later ones change nothing.</item>
/// <item>Nothing is written to a study whose <see cref="StudyIdentity"/> does not match: <see cref="CreateOrJoin"/> throws first.</item>
/// </list>
/// Attachments (fitted models) are never stored: they stay in the process that ran the trial.
/// </remarks>
public interface IStudyStorage
{
    /// <summary>
    /// Creates the study <paramref name="identity"/> names, or joins it when it exists with the same inputs.
    /// </summary>
    /// <exception cref="StudyMismatchException">A study of that name exists with other inputs (another splits version,
    /// space, seed or sampler settings, or direction); the message names what differs.</exception>
    void CreateOrJoin(StudyIdentity identity);

    /// <summary>
    /// Atomically claims the next trial number together with its parameters. <paramref name="propose"/> is given a
    /// snapshot of every trial of the study (running ones included, so the sampler can lie about them) and returns the
    /// parameters, or null when the study's budget is spent (nothing is claimed then). If another worker claims the
    /// number first, <paramref name="propose"/> is called again with a fresher snapshot.
    /// </summary>
    /// <returns>The new Running trial, or null when <paramref name="propose"/> returned null.</returns>
    FrozenTrial? Claim(string study, ProcessOwner worker, Func<IReadOnlyList<FrozenTrial>, TrialProposal?> propose);

    /// <summary>Records that the running trial <paramref name="number"/> is alive now (see <see cref="FailStale"/>).</summary>
    void Heartbeat(string study, int number);

    /// <summary>Records the value a running trial reached at <paramref name="step"/> (a successive-halving rung). Steps are 0, 1, 2, … in order; the first report of a step wins.</summary>
    void ReportIntermediate(string study, int number, int step, double value);

    /// <summary>
    /// Finishes a running trial. Returns the trial as recorded: if it was already finished (e.g. failed as stale while
    /// it was in fact slow), that earlier record stands and is returned unchanged.
    /// </summary>
    /// <exception cref="InvalidOperationException">The study has no trial <paramref name="number"/>.</exception>
    FrozenTrial Finish(string study, int number, TrialFinish finish);

    /// <summary>Every trial of the study in number order, running ones included.</summary>
    IReadOnlyList<FrozenTrial> Trials(string study);

    /// <summary>
    /// Fails (as <see cref="FrozenTrial.IsAbandoned"/>) every running trial with no heartbeat for
    /// <paramref name="heartbeatTimeout"/>, and every running trial whose worker certainly ended (same host, process
    /// gone). Returns the trials it failed.
    /// </summary>
    IReadOnlyList<FrozenTrial> FailStale(string study, TimeSpan heartbeatTimeout);
}

/// <summary>What a sampler proposes for a claim: the parameters, and the abandoned trial they repeat, if any.</summary>
public sealed record TrialProposal(IReadOnlyDictionary<string, object> Params, int? RetryOf = null);

/// <summary>How a trial ended, as <see cref="IStudyStorage.Finish"/> records it.</summary>
/// <param name="State">Any finished state.</param>
/// <param name="Value">The objective's value; only for Complete.</param>
/// <param name="Metrics">Extra figures (e.g. logloss).</param>
/// <param name="Error">Why it failed, timed out or was pruned.</param>
/// <param name="Duration">Wall time from claim to finish.</param>
/// <param name="Cost">Training seconds, when the objective measured them.</param>
public sealed record TrialFinish(TrialState State, double? Value, IReadOnlyDictionary<string, double> Metrics, string? Error,
    TimeSpan Duration, double? Cost)
{
    /// <summary>
    /// The finish <see cref="IStudyStorage.FailStale"/> records for a running trial, or null when it is alive: its
    /// worker certainly ended (<paramref name="ownerGone"/>), or it has been silent past <paramref name="heartbeatTimeout"/>.
    /// </summary>
    public static TrialFinish? Abandoned(FrozenTrial running, bool ownerGone, TimeSpan silent, TimeSpan heartbeatTimeout, DateTimeOffset now)
    {
        string? why = ownerGone ? $"{FrozenTrial.AbandonedPrefix} its worker ({running.Worker}) ended"
            : silent > heartbeatTimeout ? $"{FrozenTrial.AbandonedPrefix} no heartbeat for {silent.TotalSeconds:0} s (timeout {heartbeatTimeout.TotalSeconds:0} s)"
            : null;
        return why is null ? null : new TrialFinish(TrialState.Failed, null, new Dictionary<string, double>(), why, now - running.Start, null);
    }

    /// <summary>Checks the record is consistent: a finished state, and a finite value exactly when Complete.</summary>
    public void Validate()
    {
        if (State == TrialState.Running) throw new ArgumentException("A trial cannot finish as Running.", nameof(State));
        if (State == TrialState.Complete && Value is not { } v) throw new ArgumentException("A Complete trial needs a value.", nameof(Value));
        if (State == TrialState.Complete && !double.IsFinite(Value!.Value)) throw new ArgumentException($"A Complete trial needs a finite value, but got {Value}.", nameof(Value));
        if (State != TrialState.Complete && Value is not null) throw new ArgumentException($"Only a Complete trial has a value; this one is {State}.", nameof(Value));
    }
}
