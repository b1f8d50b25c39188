using CtBuild.Storage;

namespace CtBuild.Pipeline;

/// <summary>
/// The record of a stage's last successful run (DVC's <c>dvc.lock</c> entry): the fingerprint of its
/// inputs, the inputs themselves (to explain why it is stale) and what it produced.
/// Written only after the stage's outputs are complete, so a crash never leaves a stage recorded fresh.
/// <see cref="Engine"/> is the CtBuild that ran it (null in locks written before it was recorded).
/// </summary>
public sealed record StageLock(
    string Stage,
    string Fingerprint,
    IReadOnlyDictionary<string, string> Inputs,
    IReadOnlyDictionary<string, string> Outputs,
    string Summary,
    DateTimeOffset StartedAt,
    double DurationSeconds,
    string? PipelineRunId,
    string? Engine = null)
{
    public static string PathFor(string stagesDir, string stage) => Path.Combine(stagesDir, stage + ".lock.json");

    public static StageLock? Read(string stagesDir, string stage)
    {
        try { return AtomicFile.ReadJson<StageLock>(PathFor(stagesDir, stage)); }
        catch (System.Text.Json.JsonException) { return null; } // unreadable: treat as never run
    }

    public void Write(string stagesDir) => AtomicFile.WriteJson(PathFor(stagesDir, Stage), this);
}
