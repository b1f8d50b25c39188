using System.ComponentModel;
using CtBuild.Stages;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public sealed class IngestSettings : StageSettings
{
    [CommandOption("--quarantine-file <NAME>")]
    [Description("Put every row of this raw file in quarantine instead of raw (a file refused for too many bad rows); repeatable.")]
    public string[] QuarantineFiles { get; init; } = [];
}

/// <summary><c>ctb ingest</c>: the ingest stage, with files the user chose to quarantine whole.</summary>
public sealed class IngestCommand : Command<IngestSettings>
{
    public override int Execute(CommandContext context, IngestSettings settings, CancellationToken cancellation)
    {
        var results = StageExecution.Run([new IngestStage { QuarantineFiles = settings.QuarantineFiles }], settings, cancellation);
        settings.Print(results[0], () => { });
        return 0;
    }
}
