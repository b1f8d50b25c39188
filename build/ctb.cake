// Helpers that drive the `ctb` tool: build it, ask whether a stage is up to date, run a stage.
using System.Text.Json;

var ctbForce = Argument("force", false);
var ctbEnv = Argument("env", "");
var ctbConfig = Argument("config", "ctbuild.json");
var ctbNoCommit = Argument("no-commit", false);
// One id for every stage of this Cake run, so the report can tell what ran and what was skipped.
var ctbPipelineRun = EnvironmentVariable("CTB_PIPELINE_RUN")
    ?? $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N").Substring(0, 6)}";
// --ctb=<path to ctb.dll> uses a ctb built elsewhere (a workspace without CtBuild's sources, or a test).
var ctbPrebuilt = Argument("ctb", "");
var ctbDll = ctbPrebuilt != "" ? MakeAbsolute(File(ctbPrebuilt)).FullPath
    : MakeAbsolute(File("src/CtBuild.Cli/bin/Release/net10.0/ctb.dll")).FullPath;

void BuildCtb()
{
    if (ctbPrebuilt != "")
    {
        if (!FileExists(ctbDll)) throw new CakeException($"--ctb names {ctbDll}, which does not exist.");
        Information($"Using the prebuilt {ctbDll}");
        return;
    }
    DotNetBuild("src/CtBuild.Cli/CtBuild.Cli.csproj", new DotNetBuildSettings
    {
        Configuration = "Release",
        NoLogo = true,
        Verbosity = DotNetVerbosity.Quiet,
        ArgumentCustomization = args => args.Append("-nologo").Append("-clp:ErrorsOnly"),
    });
}

string CtbArguments(string verb, bool json = false)
{
    var args = $"\"{ctbDll}\" {verb} --config \"{ctbConfig}\"";
    if (!string.IsNullOrEmpty(ctbEnv)) args += $" --env {ctbEnv}";
    if (json) args += " --json";
    return args;
}

// True when the engine says the stage's fingerprint matches its last run and its outputs are intact.
bool UpToDate(string stage)
{
    if (ctbForce) return false;
    var exit = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = CtbArguments($"status --stage {stage}", json: true),
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    }, out var stdout, out var stderr);
    if (exit != 0)
        throw new CakeException($"ctb status --stage {stage} failed (exit {exit}): {string.Join("\n", stderr)}");
    using var doc = JsonDocument.Parse(string.Join("\n", stdout));
    var fresh = doc.RootElement.GetProperty("upToDate").GetBoolean();
    if (!fresh) Information($"{stage}: {doc.RootElement.GetProperty("reason").GetString()}");
    return fresh;
}

void RunStage(string stage)
{
    var args = CtbArguments(stage) + $" --pipeline-run {ctbPipelineRun}";
    if (ctbForce) args += " --force";
    if (ctbNoCommit && stage == "promote") args += " --no-commit";
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = args });
    if (exit != 0)
        throw new CakeException($"ctb {stage} failed (exit code {exit}); its message is above. Fix the cause and run the same target again: finished stages are skipped.");
}

// Declares the Cake task of a pipeline stage: depends on the stage before, skipped when up to date.
// Cake fails a run whose target task is skipped by a criteria, so the target task has none: it runs
// its ctb verb, which skips by itself (and says so) when the stage is up to date.
CakeTaskBuilder Stage(string name, string dependsOn, string description)
{
    var verb = name.ToLowerInvariant();
    var task = Task(name).Description(description).IsDependentOn(dependsOn);
    if (!string.Equals(name, Argument("target", "Promote"), StringComparison.OrdinalIgnoreCase))
        task = task.WithCriteria(() => !UpToDate(verb), "up to date");
    return task.Does(() => RunStage(verb));
}

// Runs a ctb verb that is not a pipeline stage (publish, import).
void RunCtb(string verbAndArguments)
{
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = CtbArguments(verbAndArguments) });
    if (exit != 0)
        throw new CakeException($"ctb {verbAndArguments.Split(' ')[0]} failed (exit code {exit}); its message is above.");
}
