using System.ComponentModel;
using CtBuild.Pipeline;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public sealed class TuneWorkerSettings : WorkspaceSettings
{
    [CommandOption("--storage <URL>")]
    [Description("The study storage: postgresql://user@host:5432/db or a shared folder (default: CTB_TUNE_STORAGE, then tune.storage). The password comes from PGPASSWORD or ~/.pgpass.")]
    public string? Storage { get; init; }

    [CommandOption("--study <NAME>")]
    [Description("Join this study (default: the one the Tune stage makes from the model, the splits version and the space). Refused when its inputs differ from this workspace's.")]
    public string? Study { get; init; }

    [CommandOption("--threads <N>")]
    [Description("Threads each trial trains on (default: all cores when tune.parallelism is 1, else one). Use 1 to run several workers on one machine.")]
    public int? Threads { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Threads is < 1 ? Spectre.Console.ValidationResult.Error("--threads must be at least 1") : base.Validate();
}

/// <summary><c>ctb tune worker</c>: one more worker on the study, until its budget is spent; exit 0 then.</summary>
public sealed class TuneWorkerCommand : Command<TuneWorkerSettings>
{
    public override int Execute(CommandContext context, TuneWorkerSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var outputs = TuneWorker.Run(ws, settings.Log(), new TuneWorkerOptions(settings.Storage, settings.Study, settings.Threads), cancellation);
        settings.Print(new { stage = "tune-worker", summary = outputs.Summary, outputs = outputs.Values }, () => Console.WriteLine($"tune worker: {outputs.Summary}"));
        return 0;
    }
}
