namespace CtBuild.Evaluation;

/// <summary>What the gate decided.</summary>
public enum GateOutcome
{
    /// <summary>The candidate becomes the champion.</summary>
    Promote,
    /// <summary>There is a champion and the candidate did not beat it.</summary>
    KeepChampion,
    /// <summary>There is no usable champion and the candidate is below the AUC floor.</summary>
    Reject,
}

/// <summary>The gate's decision with everything a report or an audit needs to explain it.</summary>
/// <param name="Promote">True when <paramref name="Outcome"/> is <see cref="GateOutcome.Promote"/>.</param>
/// <param name="Outcome">Promote, keep the champion, or reject.</param>
/// <param name="Reason">One sentence with the numbers, for a commit message or a summary line.</param>
/// <param name="Reasons">Each check made, one line each.</param>
/// <param name="TestSnapshot">The frozen rows both models were scored on.</param>
/// <param name="Options">The options the decision was made with.</param>
/// <param name="Candidate">Candidate metrics on the test rows.</param>
/// <param name="Champion">Champion metrics, or null when there is no usable champion.</param>
/// <param name="ChampionUnscorable">Why the registered champion could not be scored, if so.</param>
/// <param name="Bootstrap">Paired bootstrap of ΔAUC (win ratio, mean, interval, distribution), when a champion was scored.</param>
/// <param name="DeLong">DeLong's test of the two AUCs, when a champion was scored (reported, not gated on).</param>
public sealed record GateDecision(
    bool Promote, GateOutcome Outcome, string Reason, IReadOnlyList<string> Reasons,
    TestSnapshotRef TestSnapshot, GateOptions Options,
    BinaryMetrics Candidate, BinaryMetrics? Champion, string? ChampionUnscorable,
    BootstrapResult? Bootstrap, DeLongResult? DeLong)
{
    /// <summary>Win ratio required for promotion (from <see cref="Options"/>).</summary>
    public double RequiredWinRatio => Options.BootstrapRatio;
}
