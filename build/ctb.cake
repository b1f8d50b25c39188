// The CtBuild pipeline as Cake tasks, driving the `ctb` tool. Shared by CtBuild's own build.cake (which
// builds ctb from source first) and by the build.cake `ctb init` writes into a workspace (which runs the
// installed local tool, `dotnet ctb`, and builds nothing). `ctb init` copies this file as it is.
using System.Text.Json;

var ctbForce = Argument("force", false);
var ctbEnv = Argument("env", "");
var ctbConfig = Argument("config", "ctbuild.json");
var ctbNoCommit = Argument("no-commit", false);
// One id for every stage of this Cake run, so the report can tell what ran and what was skipped.
var ctbPipelineRun = EnvironmentVariable("CTB_PIPELINE_RUN")
    ?? $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N").Substring(0, 6)}";
// --ctb=<path to ctb.dll> uses a ctb built elsewhere (a test, or a build of your own).
var ctbPrebuilt = Argument("ctb", "");
// How ctb is started: `dotnet <ctb.dll>` when a dll is known (--ctb=, or CtBuild's own build), else the
// installed local tool, `dotnet ctb`. CtBuild's build.cake sets it after building from source.
string ctbDll = ctbPrebuilt != "" ? MakeAbsolute(File(ctbPrebuilt)).FullPath : null;
// Cake's own options are not script arguments; the command line says which mode Cake runs in.
var cakeCommandLine = System.Environment.GetCommandLineArgs();
bool CakeOption(params string[] names) => cakeCommandLine.Any(a => names.Any(n => a.Equals(n, StringComparison.OrdinalIgnoreCase) || a.StartsWith(n + "=", StringComparison.OrdinalIgnoreCase)));
var cakeDryRun = CakeOption("--dryrun", "--noop", "--whatif");
var cakeExclusive = CakeOption("--exclusive", "-e");
var cakeShowsGraph = CakeOption("--tree", "--description", "--showtree", "--showdescription");

string CtbArguments(string verb, bool json = false)
{
    var args = (ctbDll != null ? $"\"{ctbDll}\"" : "ctb") + $" {verb} --config \"{ctbConfig}\"";
    if (!string.IsNullOrEmpty(ctbEnv)) args += $" --env {ctbEnv}";
    if (json) args += " --json";
    return args;
}

// The freshness of every stage from one `ctb status --json` (transitive: a stage after a stale one is
// stale), asked once per Cake run: every criteria reads it, so a no-op costs one ctb process.
Dictionary<string, (bool UpToDate, string Reason)> ctbStatus;
(bool UpToDate, string Reason) StageStatus(string stage)
{
    if (ctbStatus == null)
    {
        var exit = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = CtbArguments("status" + (ctbNoCommit ? " --no-commit" : ""), json: true),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }, out var stdout, out var stderr);
        if (exit != 0)
            throw new CakeException($"ctb status failed (exit {exit}): {string.Join("\n", stderr)}");
        using var doc = JsonDocument.Parse(string.Join("\n", stdout));
        ctbStatus = doc.RootElement.EnumerateArray().ToDictionary(
            s => s.GetProperty("stage").GetString(),
            s => (s.GetProperty("upToDate").GetBoolean(), s.GetProperty("reason").GetString()),
            StringComparer.OrdinalIgnoreCase);
    }
    return ctbStatus[stage];
}

// True when the stage must run. A dry run on a fresh clone has no ctb to ask (nothing was built): every
// stage would run.
bool MustRun(string stage)
{
    if (ctbForce) return true;
    if (cakeDryRun && ctbDll != null && !FileExists(ctbDll)) return true;
    var (upToDate, reason) = StageStatus(stage);
    if (!upToDate) Say($"{stage}: stale: {reason}");
    return !upToDate;
}

// The script's own log lines. Cake colours its log whenever TERM names a colour terminal, even into a file or a
// pipe; ctb's lines are plain there, so these are too (and plain with NO_COLOR, which Cake itself follows).
void Say(string line, Verbosity verbosity = Verbosity.Normal)
{
    if (Context.Log.Verbosity < verbosity) return;
    if (System.Console.IsOutputRedirected) System.Console.WriteLine(line);
    else Context.Log.Write(verbosity, LogLevel.Information, "{0}", line);
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
CakeTaskBuilder Stage(string name, string dependsOn, string description)
{
    var verb = name.ToLowerInvariant();
    var task = Task(name).Description(description);
    if (dependsOn != null) task = task.IsDependentOn(dependsOn);
    // Cake fails a run whose target task is skipped by a criteria. RunPipeline makes the target a
    // dependency of the Pipeline task, so the stage can be skipped (and shows Skipped in the summary);
    // with --exclusive the stage itself is the target and its verb skips by itself when up to date.
    if (!(cakeExclusive && string.Equals(name, Argument("target", "Promote"), StringComparison.OrdinalIgnoreCase)))
        task = task.WithCriteria(() => MustRun(verb), "up to date");
    return task.Does(() => RunStage(verb));
}

// The seven stages in order; the first depends on firstDependency (CtBuild's Build task) when given.
void PipelineStages(string firstDependency)
{
    Stage("Ingest", firstDependency, "Capture new raw files into the lake; quarantine bad rows.");
    Stage("Features", "Ingest", "Run the features SQL over the raw snapshot.");
    Stage("Split", "Features", "Hash-based train/valid/test assignment.");
    Stage("Tune", "Split", "Hyperparameter search; the best trial is the candidate.");
    Stage("Evaluate", "Tune", "Candidate vs champion: paired bootstrap of AUC, DeLong.");
    Stage("Report", "Evaluate", "HTML report and Markdown summary in reports/.");
    Stage("Promote", "Report", "Register the version, move the champion alias, commit models/.");
}

var ctbStageNames = new[] { "Ingest", "Features", "Split", "Tune", "Evaluate", "Report", "Promote" };

// Runs --target. A stage target runs through the Pipeline task that depends on it, so that a target
// stage that is up to date is skipped like the others instead of failing Cake's "could not reach
// target". --tree, --description and --exclusive see the stage itself.
void RunPipeline(string target)
{
    var isStage = ctbStageNames.Any(s => s.Equals(target, StringComparison.OrdinalIgnoreCase));
    if (!isStage || cakeExclusive || cakeShowsGraph) { RunTarget(target); return; }
    Task("Pipeline").Description($"Ends the run at --target (here {target}); every stage before it is skipped when up to date.")
        .IsDependentOn(target);
    RunTarget("Pipeline");
}

// Runs a ctb verb that is not a pipeline stage (publish, import).
void RunCtb(string verbAndArguments)
{
    var exit = StartProcess("dotnet", new ProcessSettings { Arguments = CtbArguments(verbAndArguments) });
    if (exit != 0)
        throw new CakeException($"ctb {verbAndArguments.Split(' ')[0]} failed (exit code {exit}); its message is above.");
}
