using System.Diagnostics;

namespace CtBuild.Pipeline;

/// <summary>
/// Whether a stage must run, and why. <paramref name="Upstream"/> names the earliest stale stage before it
/// when that is the reason: it will run after that one, which changes its inputs.
/// </summary>
public sealed record Freshness(string Stage, bool UpToDate, string Reason, StageLock? Last, string? Upstream = null);

/// <summary>The outcome of asking a stage to run.</summary>
public sealed record StageResult(string Stage, bool Ran, string Reason, string Summary, TimeSpan Duration, StageOutputs? Outputs);

/// <summary>Decides from fingerprints whether a stage is up to date, runs it when not, and records the result.</summary>
public static class StageRunner
{
    public static Freshness Check(Stage stage, StageContext context)
    {
        var inputs = stage.Inputs(context);
        context.FileHashes.Save();
        var last = StageLock.Read(context.Workspace.StagesDir, stage.Name);
        if (last is null) return new Freshness(stage.Name, false, "never ran", null);
        // Said first: whatever else changed, a damaged input is what the user must hear about.
        if (stage.Invalidated(context) is { } why)
            return new Freshness(stage.Name, false, why, last);
        var fingerprint = inputs.Fingerprint();
        if (last.Fingerprint != fingerprint)
            return new Freshness(stage.Name, false, "changed: " + DescribeChange(last, inputs.Values), last);
        if (!stage.OutputsIntact(context, new StageOutputs(last.Outputs, last.Summary)))
            return new Freshness(stage.Name, false, "its outputs are missing or changed", last);
        return new Freshness(stage.Name, true, "up to date", last);
    }

    /// <summary>
    /// The freshness of a chain of stages, each depending on the one before: once a stage is stale, every
    /// later one is stale too ("upstream ingest"), since running the stale one changes what they read.
    /// This is what <c>ctb run</c> and the Cake script will run, in one pass.
    /// </summary>
    public static IReadOnlyList<Freshness> CheckChain(IReadOnlyList<Stage> stages, StageContext context)
    {
        var result = new List<Freshness>();
        string? firstStale = null;
        foreach (var stage in stages)
        {
            if (firstStale is not null)
            {
                result.Add(new Freshness(stage.Name, false, $"upstream {firstStale}", StageLock.Read(context.Workspace.StagesDir, stage.Name), firstStale));
                continue;
            }
            var own = Check(stage, context);
            if (!own.UpToDate) firstStale = stage.Name;
            result.Add(own);
        }
        return result;
    }

    public static StageResult Run(Stage stage, StageContext context)
    {
        var freshness = Check(stage, context);
        if (freshness.UpToDate && !context.Options.Force)
        {
            context.Log.Info($"{stage.Name}: skipped, up to date ({freshness.Last!.Summary})");
            return new StageResult(stage.Name, false, "up to date", freshness.Last.Summary, TimeSpan.Zero, null);
        }
        var reason = context.Options.Force && freshness.UpToDate ? "forced" : freshness.Reason;
        context.Log.Info($"{stage.Name}: running ({reason})");
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        // Inputs are read again after the run: a stage may legitimately change what it reads
        // (Ingest captures new files), and the lock must describe what the outputs came from.
        var outputs = stage.Run(context);
        var inputs = stage.Inputs(context);
        context.FileHashes.Save();
        FaultInjection.Point($"stage.before-lock:{stage.Name}", StageLock.PathFor(context.Workspace.StagesDir, stage.Name));
        new StageLock(stage.Name, inputs.Fingerprint(), inputs.Values, outputs.Values, outputs.Summary,
            started, clock.Elapsed.TotalSeconds, context.Options.PipelineRunId, EngineVersion.Current).Write(context.Workspace.StagesDir);
        context.Log.Info($"{stage.Name}: done in {clock.Elapsed.TotalSeconds:0.0}s — {outputs.Summary}");
        return new StageResult(stage.Name, true, reason, outputs.Summary, clock.Elapsed, outputs);
    }

    static string DescribeChange(StageLock last, IReadOnlyDictionary<string, string> now)
    {
        var before = last.Inputs;
        var changed = now.Keys.Union(before.Keys)
            .Where(k => !before.TryGetValue(k, out var b) || !now.TryGetValue(k, out var n) || b != n)
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (changed.Count == 0) return "fingerprint";
        // A new stage logic is worth spelling out: it is why an upgraded CtBuild re-runs a stage with the same data.
        string Name(string k) => k == "code" && before.GetValueOrDefault(k) is { } from && now.GetValueOrDefault(k) is { } to
            ? $"code ({from} → {to}{(last.Engine is { } e && e != EngineVersion.Current ? $", CtBuild {e} → {EngineVersion.Current}" : "")})"
            : k;
        return string.Join(", ", changed.Take(5).Select(Name)) + (changed.Count > 5 ? $" and {changed.Count - 5} more" : "");
    }
}
