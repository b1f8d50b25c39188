using CtBuild.Storage;

namespace CtBuild.Evaluation;

/// <summary>
/// What Evaluate decided, kept for Report and Promote in <c>decision/decision.json</c>: the gate's decision
/// plus which candidate and which champion it was about.
/// </summary>
public sealed record EvaluationRecord(
    GateDecision Decision,
    string CandidateSha256,
    string CandidateRunId,
    int? ChampionVersion,
    string? ChampionSha256,
    IReadOnlyList<string> SignatureDifferences,
    string EvaluationRunId,
    DateTimeOffset Created)
{
    public const string FileName = "decision.json";

    public static string PathIn(string dir) => Path.Combine(dir, FileName);

    public static EvaluationRecord? Read(string dir) => AtomicFile.ReadJson<EvaluationRecord>(PathIn(dir));

    public void Write(string dir) => AtomicFile.WriteJson(PathIn(dir), this);
}
