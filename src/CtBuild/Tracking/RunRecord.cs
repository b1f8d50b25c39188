namespace CtBuild.Tracking;

/// <summary>Where a run stands. A run that is not Running has ended.</summary>
public enum RunStatus { Running, Finished, Failed, Killed }

/// <summary>One logged value of a metric.</summary>
public sealed record MetricPoint(string Name, double Value, long Step, DateTimeOffset Timestamp);

/// <summary>A lake table version a run read, with the digest of its content.</summary>
public sealed record RunInput(string Table, long Version, string Digest);

/// <summary>A file stored with a run; <see cref="Path"/> is relative to the run's artifact folder.</summary>
public sealed record RunArtifact(string Name, string Path, long Size, string Sha256);

/// <summary>Everything recorded about one run, as read from its files.</summary>
public sealed record RunRecord(
    string Id,
    string ExperimentId,
    string Experiment,
    string Name,
    RunStatus Status,
    DateTimeOffset StartTime,
    DateTimeOffset? EndTime,
    string? Error,
    string? ParentRunId,
    CodeVersion? CodeVersion,
    ProcessOwner Owner,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<MetricPoint> MetricHistory,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<RunInput> Inputs,
    IReadOnlyList<RunArtifact> Artifacts,
    string ArtifactFolder)
{
    /// <summary>The history of one metric, oldest first.</summary>
    public IReadOnlyList<MetricPoint> History(string metric) => MetricHistory.Where(p => p.Name == metric).ToList();
}

/// <summary>Which runs <see cref="TrackingStore.ListRuns"/> returns.</summary>
/// <param name="Experiment">Only runs of this experiment (by name); null for all.</param>
/// <param name="Filter">MLflow-style filter, e.g. <c>metrics.auc &gt; 0.9 and params.trainer = 'LightGbm'</c>.</param>
/// <param name="OrderBy">e.g. <c>metrics.auc DESC, start_time</c>; newest first when null.</param>
/// <param name="Limit">At most this many runs.</param>
public sealed record RunQuery(string? Experiment = null, string? Filter = null, string? OrderBy = null, int? Limit = null);

/// <summary>Runs side by side: one row per parameter or metric, one value per run (null when the run lacks it).</summary>
public sealed record RunComparison(
    IReadOnlyList<string> RunIds,
    IReadOnlyList<ComparisonRow<string?>> Params,
    IReadOnlyList<ComparisonRow<double?>> Metrics);

/// <summary>One parameter or metric across the compared runs.</summary>
public sealed record ComparisonRow<T>(string Name, IReadOnlyList<T> Values)
{
    /// <summary>True when the runs disagree (a missing value counts as different).</summary>
    public bool Differs => Values.Distinct().Skip(1).Any();
}

/// <summary>A tracking store problem the user can act on.</summary>
public sealed class TrackingException(string message, int exitCode = 1) : CtBuildException(message, exitCode);
