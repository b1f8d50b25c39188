using CtBuild.Stages;

namespace CtBuild.Pipeline;

/// <summary>The continuous-training DAG, in order: each stage depends on the one before it.</summary>
public static class PipelineDefinition
{
    public static IReadOnlyList<Stage> Stages { get; } =
    [
        new IngestStage(), new FeaturesStage(), new SplitStage(), new TuneStage(),
        new EvaluateStage(), new ReportStage(), new PromoteStage(),
    ];

    public static Stage Get(string name) =>
        Stages.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ConfigException($"Unknown stage '{name}'. The stages are: {string.Join(", ", Stages.Select(s => s.Name))}.");

    /// <summary>The stages up to and including <paramref name="target"/>.</summary>
    public static IReadOnlyList<Stage> UpTo(string target)
    {
        var last = Get(target);
        return Stages.TakeWhile(s => s != last).Append(last).ToList();
    }
}
