namespace CtBuild.Registry;

/// <summary>models/&lt;name&gt;/model.json</summary>
public sealed record ModelInfo(string Name, string? Description, DateTimeOffset Created);

/// <summary>One input column the model expects.</summary>
public sealed record FeatureColumn(string Name, string Type);

/// <summary>A stored file of a version; <see cref="Path"/> is relative to the model's folder.</summary>
public sealed record ArtifactEntry(string Name, string Path, long Size, string Sha256);

/// <summary>models/&lt;name&gt;/versions/v&lt;N&gt;.json: an immutable registered version.</summary>
/// <param name="DataVersions">Lake table name to the version the model was trained and tested on.</param>
public sealed record ModelVersion(
    int Version,
    string? SourceRunId,
    DateTimeOffset Created,
    string Trainer,
    IReadOnlyDictionary<string, string> TrainerParams,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, long> DataVersions,
    IReadOnlyList<FeatureColumn> InputSignature,
    IReadOnlyList<ArtifactEntry> Artifacts);

/// <summary>A file to store with a new version: copied from <see cref="SourcePath"/> as <see cref="Name"/> (e.g. model.zip).</summary>
public sealed record DraftArtifact(string Name, string SourcePath);

/// <summary>What a caller knows about a candidate before it gets a version number.</summary>
public sealed record ModelVersionDraft(
    string? SourceRunId,
    string Trainer,
    IReadOnlyDictionary<string, string> TrainerParams,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, long> DataVersions,
    IReadOnlyList<FeatureColumn> InputSignature,
    IReadOnlyList<DraftArtifact> Artifacts,
    string? ModelDescription = null);

/// <summary>Kinds of entries in history.jsonl.</summary>
public enum RegistryEventKind { Registered, Promoted, Rejected, RolledBack, AliasSet }

/// <summary>One line of models/&lt;name&gt;/history.jsonl.</summary>
/// <param name="Actor">user@host</param>
/// <param name="PreviousVersion">What the alias pointed to before (Promoted, RolledBack, AliasSet).</param>
/// <param name="Candidate">The rejected draft or run (Rejected).</param>
/// <param name="Numbers">The decision's figures, e.g. AUC delta and its confidence interval.</param>
public sealed record RegistryEvent(
    RegistryEventKind Kind,
    DateTimeOffset Time,
    string Actor,
    string Reason,
    int? Version = null,
    string? Alias = null,
    int? PreviousVersion = null,
    string? Candidate = null,
    IReadOnlyDictionary<string, double>? Numbers = null);

/// <summary>A model with all its versions and aliases.</summary>
public sealed record RegisteredModel(ModelInfo Info, IReadOnlyList<ModelVersion> Versions, IReadOnlyDictionary<string, int> Aliases)
{
    /// <summary>The champion's version number, if any.</summary>
    public int? Champion => Aliases.TryGetValue(ModelRegistry.ChampionAlias, out var v) ? v : null;
}

/// <summary>The outcome of a git commit attempt.</summary>
/// <param name="Reason">Why nothing was committed, or "committed".</param>
public sealed record CommitResult(bool Committed, string? CommitId, string Reason);

/// <summary>What a registry write did.</summary>
/// <param name="Version">The version registered, promoted or rolled back to.</param>
/// <param name="Changed">False when the registry already held this state and nothing was written.</param>
/// <param name="Paths">Files written, relative to the workspace root with '/' separators.</param>
/// <param name="Commit">The commit outcome; null when no commit was asked for.</param>
public sealed record RegistryUpdate(int? Version, bool Changed, IReadOnlyList<string> Paths, CommitResult? Commit);

/// <summary>A registry problem the user can act on.</summary>
public class RegistryException(string message, int exitCode = 1) : CtBuildException(message, exitCode);

/// <summary>A stored artifact does not match the hash recorded when it was registered.</summary>
public sealed class RegistryIntegrityException(string file, string expectedSha256, string actualSha256)
    : RegistryException(
        $"Artifact {file} does not match the registry record: expected sha256 {expectedSha256}, found {actualSha256}. " +
        "The file was changed or damaged after registration. Restore it from git (`git checkout -- <file>`) " +
        "or register and promote a new version; the model was not loaded.")
{
    /// <summary>The damaged file.</summary>
    public string File { get; } = file;
    /// <summary>The recorded hash.</summary>
    public string ExpectedSha256 { get; } = expectedSha256;
    /// <summary>The hash found, or "missing".</summary>
    public string ActualSha256 { get; } = actualSha256;
}

/// <summary>git refused the promotion commit; the registry files were restored to their previous state.</summary>
public sealed class RegistryCommitException(string message) : RegistryException(message);
