namespace CtBuild.Pipeline;

/// <summary>Ids of pipeline runs: sortable by time, unique across machines.</summary>
public static class PipelineRunIds
{
    public static string New() => $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
}
