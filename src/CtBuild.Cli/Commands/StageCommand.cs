using System.ComponentModel;
using CtBuild.Configuration;
using CtBuild.GitHub;
using CtBuild.Pipeline;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public class StageSettings : WorkspaceSettings
{
    [CommandOption("-f|--force")]
    [Description("Run even when the stage is up to date.")]
    public bool Force { get; init; }

    [CommandOption("--pipeline-run <ID>")]
    [Description("Ties stages of one pipeline run together in the report (the Cake script sets it).")]
    public string? PipelineRun { get; init; }

    /// <summary>Only the verbs that commit (promote, run) have --no-commit; see <see cref="CommitSettings"/>.</summary>
    public virtual bool SkipCommit => false;

    public RunOptions Options(Workspace ws) => new()
    {
        Force = Force,
        PipelineRunId = PipelineRun ?? Environment.GetEnvironmentVariable("CTB_PIPELINE_RUN"),
        NoCommit = SkipCommit || !ws.Config.Promote.Commit,
    };
}

/// <summary>Settings of the verbs that make the promotion commit.</summary>
public class CommitSettings : StageSettings
{
    [CommandOption("--no-commit")]
    [Description("Update the registry files but make no git commit (for users who commit themselves).")]
    public bool NoCommit { get; init; }

    public override bool SkipCommit => NoCommit;
}

/// <summary>Runs one stage (skipped when up to date unless --force) under the workspace lock.</summary>
public sealed class StageCommand<TStage> : StageCommand<TStage, StageSettings> where TStage : Stage, new();

/// <summary>Runs one stage with the options <typeparamref name="TSettings"/> offers (promote: --no-commit).</summary>
public class StageCommand<TStage, TSettings> : Command<TSettings> where TStage : Stage, new() where TSettings : StageSettings
{
    public override int Execute(CommandContext context, TSettings settings, CancellationToken cancellation)
    {
        var stage = new TStage();
        var results = StageExecution.Run([stage], settings, cancellation);
        var r = results[0];
        settings.Print(r, () => { });
        return ExitCodes.Ok;
    }
}

/// <summary>Runs a list of stages in order under one workspace lock, with GitHub log groups when in Actions.</summary>
public static class StageExecution
{
    public static IReadOnlyList<StageResult> Run(IReadOnlyList<Stage> stages, StageSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var log = settings.Log();
        var github = GitHubActions.FromProcess();
        using var workspaceLock = WorkspaceLock.Acquire(ws.StateDir, "ctb " + string.Join(",", stages.Select(s => s.Name)), Durations.Parse(ws.Config.Lock.Wait), log);
        var context = new StageContext(ws, log, settings.Options(ws), cancellation);
        var results = new List<StageResult>();
        foreach (var stage in stages)
        {
            if (github.IsActive) github.BeginGroup($"ctb {stage.Name}");
            try { results.Add(StageRunner.Run(stage, context)); }
            finally { if (github.IsActive) github.EndGroup(); }
        }
        return results;
    }
}

public sealed class RunSettings : CommitSettings
{
    [CommandOption("--to <STAGE>")]
    [Description("The last stage to run (default: promote).")]
    public string To { get; init; } = "promote";
}

/// <summary><c>ctb run</c>: the whole DAG without Cake.</summary>
public sealed class RunCommand : Command<RunSettings>
{
    public override int Execute(CommandContext context, RunSettings settings, CancellationToken cancellation)
    {
        var settingsWithRun = settings.PipelineRun is null
            ? new RunSettings { Config = settings.Config, Env = settings.Env, Json = settings.Json, Force = settings.Force, NoCommit = settings.NoCommit, To = settings.To, PipelineRun = PipelineRunIds.New() }
            : settings;
        var results = StageExecution.Run(PipelineDefinition.UpTo(settings.To), settingsWithRun, cancellation);
        settings.Print(results, () =>
        {
            foreach (var r in results)
                Console.WriteLine($"{r.Stage,-10} {(r.Ran ? "ran" : "skipped"),-8} {r.Duration.TotalSeconds,6:0.0}s  {r.Summary}");
        });
        return ExitCodes.Ok;
    }
}

public sealed class StatusSettings : WorkspaceSettings
{
    [CommandOption("-s|--stage <STAGE>")]
    [Description("Only this stage.")]
    public string? Stage { get; init; }

    [CommandOption("--no-commit")]
    [Description("Answer for a run whose promote has --no-commit (the Cake script passes it with --no-commit=true).")]
    public bool NoCommit { get; init; }
}

/// <summary><c>ctb status</c>: which stages are up to date. The Cake script asks it before each task.</summary>
public sealed class StatusCommand : Command<StatusSettings>
{
    public override int Execute(CommandContext context, StatusSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        // The options a run would have: promote's fingerprint holds whether it commits.
        var ctx = new StageContext(ws, new MemoryLog(), new RunOptions { NoCommit = settings.NoCommit || !ws.Config.Promote.Commit }, cancellation);
        // The chain up to the stage asked about: a stage after a stale one is stale too (it will run).
        var chain = settings.Stage is null ? PipelineDefinition.Stages : PipelineDefinition.UpTo(settings.Stage);
        var states = StageRunner.CheckChain(chain, ctx)
            .Select(f => new { stage = f.Stage, upToDate = f.UpToDate, reason = f.Reason, upstream = f.Upstream, lastRun = f.Last?.StartedAt, summary = f.Last?.Summary })
            .ToList();
        settings.Print(settings.Stage is null ? states : (object)states[^1], () =>
        {
            foreach (var s in settings.Stage is null ? states : [states[^1]])
                Console.WriteLine($"{s.stage,-10} {(s.upToDate ? "up to date  " + s.summary : "stale: " + s.reason)}");
        });
        return ExitCodes.Ok;
    }
}
