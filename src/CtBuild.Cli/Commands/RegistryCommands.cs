using System.ComponentModel;
using System.Globalization;
using CtBuild.Registry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

/// <summary><c>ctb registry list</c></summary>
public sealed class RegistryListCommand : Command<WorkspaceSettings>
{
    public override int Execute(CommandContext context, WorkspaceSettings settings, CancellationToken cancellation)
    {
        var registry = ModelRegistry.Open(settings.LoadWorkspace().RegistryRoot);
        var models = registry.List().Select(m => registry.Get(m.Name)).ToList();
        var damaged = models.Where(m => m.Champion is { } c && RegistryWarnings.Damaged(registry, m.Info.Name, c, "champion")).Select(m => m.Info.Name).ToHashSet();
        settings.Print(models.Select(m => new { m.Info.Name, m.Info.Description, versions = m.Versions.Count, m.Champion, m.Aliases }), () =>
        {
            if (models.Count == 0)
            {
                Console.WriteLine("No models registered yet. `ctb promote` registers the first one.");
                return;
            }
            var table = new Table().Border(TableBorder.Simple).AddColumns("model", "versions", "champion", "aliases");
            foreach (var m in models)
                table.AddRow(m.Info.Name, m.Versions.Count.ToString(), m.Champion is { } c ? $"v{c}" + (damaged.Contains(m.Info.Name) ? " (DAMAGED)" : "") : "—",
                    string.Join(", ", m.Aliases.Select(a => $"{a.Key}=v{a.Value}")));
            AnsiConsole.Write(table);
        });
        return 0;
    }
}

public sealed class RegistryModelSettings : WorkspaceSettings
{
    [CommandArgument(0, "<MODEL>")]
    [Description("The registered model's name.")]
    public string Model { get; init; } = "";
}

public sealed class RegistryShowSettings : WorkspaceSettings
{
    [CommandArgument(0, "<MODEL>")]
    public string Model { get; init; } = "";

    [CommandOption("--version <N>")]
    [Description("One version; the champion when omitted and the model has one.")]
    public int? Version { get; init; }
}

/// <summary><c>ctb registry show</c></summary>
public sealed class RegistryShowCommand : Command<RegistryShowSettings>
{
    public override int Execute(CommandContext context, RegistryShowSettings settings, CancellationToken cancellation)
    {
        var registry = ModelRegistry.Open(settings.LoadWorkspace().RegistryRoot);
        var model = registry.Get(settings.Model);
        var number = settings.Version ?? model.Champion ?? model.Versions.Select(v => v.Version).DefaultIfEmpty(0).Max();
        if (number == 0) throw new CtBuildException($"Model '{settings.Model}' has no versions yet.");
        var version = registry.GetVersion(settings.Model, number);
        RegistryWarnings.Damaged(registry, settings.Model, number, model.Champion == number ? "champion" : null);
        settings.Print(version, () =>
        {
            var aliases = model.Aliases.Where(a => a.Value == number).Select(a => a.Key).ToList();
            AnsiConsole.MarkupLine($"[bold]{settings.Model} v{version.Version}[/]{(aliases.Count > 0 ? $" ({string.Join(", ", aliases)})" : "")}  created {version.Created:u}");
            AnsiConsole.WriteLine($"trainer: {version.Trainer}  source run: {version.SourceRunId}");
            AnsiConsole.WriteLine("params: " + string.Join(", ", version.TrainerParams.Select(p => $"{p.Key}={p.Value}")));
            AnsiConsole.WriteLine("metrics: " + string.Join(", ", version.Metrics.Select(m => $"{m.Key}={m.Value.ToString("0.0000", CultureInfo.InvariantCulture)}")));
            AnsiConsole.WriteLine("data: " + string.Join(", ", version.DataVersions.Select(d => $"{d.Key} v{d.Value}")));
            AnsiConsole.WriteLine("input signature: " + string.Join(", ", version.InputSignature.Select(c => $"{c.Name}:{c.Type}")));
            foreach (var a in version.Artifacts) AnsiConsole.WriteLine($"artifact {a.Name}: {a.Size} bytes, sha256 {a.Sha256}");
        });
        return 0;
    }
}

/// <summary>Warns (on stderr, so --json stays clean) where a shown version's files differ from their registry record.</summary>
static class RegistryWarnings
{
    public static bool Damaged(ModelRegistry registry, string model, int version, string? alias)
    {
        var damaged = registry.FindDamaged(model, version);
        foreach (var d in damaged)
            Console.Error.WriteLine($"warning: {model} v{version}{(alias is null ? "" : $" ({alias})")}: {d.Message}");
        return damaged.Count > 0;
    }
}

/// <summary><c>ctb registry history</c></summary>
public sealed class RegistryHistoryCommand : Command<RegistryModelSettings>
{
    public override int Execute(CommandContext context, RegistryModelSettings settings, CancellationToken cancellation)
    {
        var events = ModelRegistry.Open(settings.LoadWorkspace().RegistryRoot).History(settings.Model);
        settings.Print(events, () =>
        {
            var table = new Table().Border(TableBorder.Simple).AddColumns("time", "event", "version", "alias", "by", "reason");
            foreach (var e in events)
                table.AddRow(e.Time.ToString("yyyy-MM-dd HH:mm:ss"), e.Kind.ToString(),
                    e.Version is { } v ? (e.PreviousVersion is { } p ? $"v{p} → v{v}" : $"v{v}") : (e.Candidate ?? ""),
                    e.Alias ?? "", Markup.Escape(e.Actor), Markup.Escape(e.Reason));
            AnsiConsole.Write(table);
        });
        return 0;
    }
}

public sealed class RegistryRollbackSettings : WorkspaceSettings
{
    [CommandArgument(0, "<MODEL>")]
    public string Model { get; init; } = "";

    [CommandOption("--to <N>")]
    [Description("The version to make champion; the previous champion when omitted.")]
    public int? To { get; init; }

    [CommandOption("--reason <TEXT>")]
    [Description("Why, for the history and the commit message.")]
    public string Reason { get; init; } = "manual rollback";

    [CommandOption("--no-commit")]
    [Description("Update the registry files but make no git commit.")]
    public bool NoCommit { get; init; }
}

/// <summary><c>ctb registry rollback</c></summary>
public sealed class RegistryRollbackCommand : Command<RegistryRollbackSettings>
{
    public override int Execute(CommandContext context, RegistryRollbackSettings settings, CancellationToken cancellation)
    {
        var update = ModelRegistry.Open(settings.LoadWorkspace().RegistryRoot).Rollback(settings.Model, settings.To, settings.Reason, !settings.NoCommit);
        settings.Print(update, () =>
            Console.WriteLine($"{settings.Model}: champion is now v{update.Version}" +
                              (update.Commit is { Committed: true } c ? $" (commit {c.CommitId})" : update.Commit is { } n ? $" ({n.Reason})" : "")));
        return 0;
    }
}
