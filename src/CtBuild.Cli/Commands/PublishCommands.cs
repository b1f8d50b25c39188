using System.ComponentModel;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Publishing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public sealed class PublishSettings : WorkspaceSettings
{
    [CommandArgument(0, "[MODEL]")]
    [Description("The registered model (default: the config's name).")]
    public string? Model { get; init; }

    [CommandOption("--version <N>")]
    [Description("The version to publish.")]
    public int? Version { get; init; }

    [CommandOption("--alias <NAME>")]
    [Description("Publish the version this alias points to (default: champion).")]
    public string? Alias { get; init; }

    [CommandOption("--to <DIR|URL>")]
    [Description("The shared folder or container (az://<account>/<container>/<prefix>, credentials from AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN or DefaultAzureCredential); the bundle goes to <DIR>/<model>/v<N>-<sha12>/.")]
    public string? To { get; init; }

    public override ValidationResult Validate() => Required(To, "--to <DIR> is required: the shared folder to publish into.") ?? base.Validate();

    /// <summary>An error when a required option is missing (Spectre options are optional by nature).</summary>
    internal static ValidationResult? Required(string? value, string error) => string.IsNullOrWhiteSpace(value) ? ValidationResult.Error(error) : null;
}

/// <summary><c>ctb publish</c>: writes a registered version as a bundle into shared storage (signed when CTB_BUNDLE_KEY is set).</summary>
public sealed class PublishCommand : Command<PublishSettings>
{
    public override int Execute(CommandContext context, PublishSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var bundle = BundlePublisher.Publish(ws, settings.To!, settings.Model, settings.Version, settings.Alias, BundleSignature.KeyFromEnvironment());
        settings.Print(bundle, () => Console.WriteLine(
            $"{(bundle.AlreadyPublished ? "already published" : "published")} {bundle.Manifest.Model} v{bundle.Manifest.Version} " +
            $"({ws.Environment}) to {bundle.Folder}: {bundle.Manifest.Files.Count} files, {(bundle.Signed ? "signed" : "unsigned")}, onnx: {bundle.Manifest.Onnx}"));
        return 0;
    }
}

public sealed class ImportSettings : WorkspaceSettings
{
    [CommandOption("--from <DIR|URL>")]
    [Description("A bundle folder, or the shared folder (then the newest bundle of this workspace's model); or the same as a container URL az://<account>/<container>/<prefix>.")]
    public string? From { get; init; }

    [CommandOption("--require-signature")]
    [Description("Refuse a bundle not signed with the key in CTB_BUNDLE_KEY.")]
    public bool RequireSignature { get; init; }

    [CommandOption("--no-commit")]
    [Description("Update the registry files but make no git commit.")]
    public bool NoCommit { get; init; }

    public override ValidationResult Validate() =>
        PublishSettings.Required(From, "--from <DIR> is required: the shared folder or a bundle folder.") ?? base.Validate();
}

/// <summary><c>ctb import</c>: verifies a bundle, scores it on this environment's test split and promotes it if it beats the champion.</summary>
public sealed class ImportCommand : Command<ImportSettings>
{
    public override int Execute(CommandContext context, ImportSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var log = settings.Log();
        using var workspaceLock = WorkspaceLock.Acquire(ws.StateDir, "ctb import", Durations.Parse(ws.Config.Lock.Wait), log);
        var options = new ImportOptions(settings.RequireSignature, BundleSignature.KeyFromEnvironment(), !settings.NoCommit && ws.Config.Promote.Commit);
        var result = BundleImporter.Import(ws, settings.From!, options, log);
        settings.Print(result, () => Console.WriteLine($"{result.Outcome}: {result.BundleId} ({result.SourceEnvironment} v{result.SourceVersion}): {result.Reason}"));
        return 0;
    }
}
