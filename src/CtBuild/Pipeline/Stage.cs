using System.Text;
using System.Text.Json;
using CtBuild.Configuration;

namespace CtBuild.Pipeline;

/// <summary>
/// One step of the pipeline. Like a DVC stage, it names its inputs (turned into a fingerprint) and
/// its outputs (checked to be intact); the runner skips it when both match the last successful run.
/// </summary>
public abstract class Stage
{
    /// <summary>The stage's name, also its <c>ctb</c> verb and Cake task (lower-case).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Bumped when the code that decides the stage's output changes (the stage and its domain folders), so a
    /// workspace that upgrades CtBuild re-runs it. <c>StageCodeVersionTests</c> fails when that code changes
    /// without a decision about this version.
    /// </summary>
    public abstract string CodeVersion { get; }

    /// <summary>Everything the stage's result depends on, as named values (versions, hashes).</summary>
    public abstract StageInputs Inputs(StageContext context);

    /// <summary>Does the work and returns what it produced (checked later by <see cref="OutputsIntact"/>).</summary>
    public abstract StageOutputs Run(StageContext context);

    /// <summary>
    /// Why the last result can no longer be trusted although its inputs and outputs match (e.g. the champion it
    /// was decided against was tampered with); null when nothing is wrong. Checked on every status and run.
    /// </summary>
    public virtual string? Invalidated(StageContext context) => null;

    /// <summary>True when what the last run produced is still there, unchanged.</summary>
    public abstract bool OutputsIntact(StageContext context, StageOutputs recorded);

    /// <summary>The config section, serialised canonically, as a fingerprint input.</summary>
    protected static string Section<T>(T section) => Hashing.Sha256Hex(JsonSerializer.Serialize(section, ConfigLoader.Options));
}

/// <summary>The named inputs of a stage; their hash is the stage's fingerprint.</summary>
public sealed record StageInputs(IReadOnlyDictionary<string, string> Values)
{
    public string Fingerprint()
    {
        var text = new StringBuilder();
        foreach (var (k, v) in Values.OrderBy(p => p.Key, StringComparer.Ordinal)) text.Append(k).Append('=').Append(v).Append('\n');
        return Hashing.Sha256Hex(text.ToString());
    }

    public static StageInputs Of(params (string Name, string Value)[] values) =>
        new(values.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal));
}

/// <summary>What a stage produced (table versions, file hashes) plus a one-line summary for people.</summary>
public sealed record StageOutputs(IReadOnlyDictionary<string, string> Values, string Summary)
{
    public static StageOutputs Of(string summary, params (string Name, string Value)[] values) =>
        new(values.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal), summary);

    public string? Get(string name) => Values.TryGetValue(name, out var v) ? v : null;
}

/// <summary>What a stage needs to run: the workspace, where to report progress, and run-wide options.</summary>
public sealed record StageContext(Workspace Workspace, IPipelineLog Log, RunOptions Options, CancellationToken Cancellation = default)
{
    FileHashCache? _hashes;
    public FileHashCache FileHashes => _hashes ??= FileHashCache.Open(Workspace.StateDir);
}

/// <summary>Options that hold for one invocation.</summary>
public sealed record RunOptions
{
    /// <summary>Run even when up to date.</summary>
    public bool Force { get; init; }
    /// <summary>Ties the stages of one <c>dotnet cake</c> run together in the report.</summary>
    public string? PipelineRunId { get; init; }
    /// <summary>Promote without the git commit (for users who commit themselves).</summary>
    public bool NoCommit { get; init; }
    /// <summary>Set for <c>ctb tune worker</c>: Tune runs trials of the shared study and makes no candidate.</summary>
    public TuneWorkerOptions? TuneWorker { get; init; }
}

/// <summary>
/// What a tuning worker overrides: the study storage (else tune.storage / CTB_TUNE_STORAGE), the study's name, and
/// the threads each trial trains on (else all cores when one trial runs at a time, one when several do).
/// </summary>
public sealed record TuneWorkerOptions(string? Storage, string? Study, int? Threads = null);
