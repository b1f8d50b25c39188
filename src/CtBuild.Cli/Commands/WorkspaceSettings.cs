using System.ComponentModel;
using System.Text.Json;
using CtBuild.Configuration;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

/// <summary>Options every verb takes: which workspace, which environment, and JSON output.</summary>
public class WorkspaceSettings : CommandSettings
{
    [CommandOption("-c|--config <FILE>")]
    [Description("The pipeline config (default: ./ctbuild.json).")]
    public string? Config { get; init; }

    [CommandOption("-e|--env <NAME>")]
    [Description("The environment from the config's environments (e.g. dev, prod).")]
    public string? Env { get; init; }

    [CommandOption("--json")]
    [Description("Print the result as JSON on stdout (logs go to stderr).")]
    public bool Json { get; init; }

    public Workspace LoadWorkspace() => Workspace.Load(Config, Env);

    public ConsoleLog Log() => new(Json);

    static readonly JsonSerializerOptions JsonOut = new(CtBuild.Storage.AtomicFile.Json);

    /// <summary>Prints <paramref name="result"/> as JSON with --json, else calls <paramref name="human"/>.</summary>
    public void Print<T>(T result, Action human)
    {
        if (Json) Console.Out.WriteLine(JsonSerializer.Serialize(result, JsonOut));
        else human();
    }
}
