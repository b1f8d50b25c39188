using System.ComponentModel;
using CtBuild.Configuration;
using CtBuild.Init;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public sealed class InitSettings : CommandSettings
{
    [CommandOption("-d|--data <FILE>")]
    [Description("The data file to learn from (CSV, .csv.gz, Parquet or JSON lines); copied into data/raw/.")]
    public string? Data { get; init; }

    [CommandOption("-l|--label <COLUMN>")]
    [Description("The column the model predicts.")]
    public string? Label { get; init; }

    [CommandOption("-p|--positive <VALUE>")]
    [Description("The label value that counts as positive (every other value is negative).")]
    public string? Positive { get; init; }

    [CommandOption("-k|--key <COLUMN>")]
    [Description("A column that identifies a row: splits follow it, so a row keeps its split as data grows.")]
    public string? Key { get; init; }

    [CommandOption("-n|--name <MODEL>")]
    [Description("The registered model's name (default: from the data file's name).")]
    public string? Name { get; init; }

    [CommandOption("--force")]
    [Description("Replace files that already exist (ctbuild.json, features SQL, build.cake, workflow).")]
    public bool Force { get; init; }

    [CommandOption("--dir <FOLDER>")]
    [Description("The workspace folder (default: the current folder).")]
    public string? Dir { get; init; }

    [CommandOption("--json")]
    [Description("Print what was inferred and written as JSON on stdout.")]
    public bool Json { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        var missing = new[] { ("--data", Data), ("--label", Label), ("--positive", Positive) }.Where(o => string.IsNullOrEmpty(o.Item2)).Select(o => o.Item1).ToList();
        return missing.Count == 0 ? Spectre.Console.ValidationResult.Success()
            : Spectre.Console.ValidationResult.Error($"ctb init needs {string.Join(", ", missing)}, e.g. ctb init --data titanic.csv --label survived --positive survived.");
    }
}

/// <summary><c>ctb init</c>: a workspace from one data file (see <see cref="WorkspaceInit"/>).</summary>
public sealed class InitCommand : Command<InitSettings>
{
    public override int Execute(CommandContext context, InitSettings settings, CancellationToken cancellation)
    {
        var root = Path.GetFullPath(settings.Dir ?? ".");
        var version = ToolVersion.Describe().Split(' ')[0];
        var request = new InitRequest(settings.Data!, settings.Label!, settings.Positive!, settings.Key, settings.Name, settings.Force, version);
        var plan = WorkspaceInit.Plan(root, request);
        var written = WorkspaceInit.Write(root, plan);
        // The config it wrote must load: a template bug is caught here, not at the first stage.
        var config = ConfigLoader.Load(Path.Combine(root, ConfigLoader.DefaultFileName));
        var log = new ConsoleLog(settings.Json);
        if (settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                model = config.Name,
                written,
                columns = plan.Columns.Select(c => new { name = c.Name, type = c.Type, missing = c.Missing, distinct = c.Distinct, missingMarkers = c.MissingMarkers, values = c.LowCardinalityValues }),
                notes = plan.Notes,
                warnings = plan.Warnings,
            }, Storage.AtomicFile.Json));
            foreach (var w in plan.Warnings) log.Warning(w);
            return ExitCodes.Ok;
        }
        log.Info($"ctb init: workspace for model '{config.Name}' in {root}");
        log.Info($"Inferred from {Path.GetFileName(settings.Data!)} ({plan.Columns[0].Rows} rows):");
        var width = plan.Columns.Max(c => c.Name.Length);
        foreach (var c in plan.Columns)
        {
            var contract = config.Ingest.Columns[c.Name];
            var detail = contract.Values is { } v ? $"values {string.Join(", ", v.Take(6))}{(v.Count > 6 ? $", … ({v.Count})" : "")}" : $"{c.Distinct} distinct";
            log.Info($"  {c.Name.PadRight(width)}  {c.Type,-6} {(contract.Nullable ? $"{c.Missing} missing" : "never missing"),-14} {detail}");
        }
        foreach (var n in plan.Notes) log.Info("  " + n);
        foreach (var w in plan.Warnings) log.Warning(w);
        log.Info("Wrote " + string.Join(", ", written) + ".");
        log.Info("Check the contract in ctbuild.json, then run: dotnet tool restore && dotnet cake --target=Promote");
        return ExitCodes.Ok;
    }
}

/// <summary><c>ctb schema</c>: the JSON Schema of ctbuild.json.</summary>
public sealed class SchemaCommand : Command<SchemaCommand.Settings>
{
    public sealed class Settings : CommandSettings;

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellation)
    {
        Console.Out.Write(ConfigSchema.Generate());
        return ExitCodes.Ok;
    }
}
