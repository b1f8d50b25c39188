using System.ComponentModel;
using CtBuild.Evaluation.Benchmarks;
using CtBuild.Ingest.Benchmarks;
using CtBuild.Tuning.Benchmarks;
using Spectre.Console;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public sealed class BenchTunerSettings : WorkspaceSettings
{
    [CommandOption("--seeds <N>")] [Description("Seeds per function and sampler (default 10).")]
    public int Seeds { get; init; } = 10;

    [CommandOption("--first-seed <N>")] [Description("First seed, for both CtBuild and Optuna (default 0); e.g. --first-seed 20 --seeds 20 is a second seed set.")]
    public int FirstSeed { get; init; }

    [CommandOption("--evals <N>")] [Description("Largest budget; regret is also read at half of it (default 100).")]
    public int Evals { get; init; } = 100;

    [CommandOption("--function <NAME>")] [Description("Only this function (Branin, Hartmann6, Rosenbrock4, Ackley5, Levy4).")]
    public string? Function { get; init; }

    [CommandOption("--samplers <LIST>")] [Description("Comma-separated: TPE (the default, Optuna 5's), TPE-univariate (Optuna 5's without joint kernels), TPE-optuna3.1 (what tune.multivariate false gives), TPE-optuna3.1-multivariate, Random, and Optuna 3.1 with one setting changed: TPE-density, TPE-prior0.5, TPE-prior2, TPE-no-clip, TPE-startup5, TPE-gamma0.15, TPE-ei48 (default TPE,Random).")]
    public string Samplers { get; init; } = "TPE,Random";

    [CommandOption("--optuna")] [Description("Also run Optuna's TPESampler (needs /usr/bin/python3 with optuna, e.g. apt-get install python3-optuna; PYTHONPATH=<a checkout of optuna> runs that one) on the same functions and seeds.")]
    public bool Optuna { get; init; }

    [CommandOption("--optuna-multivariate")] [Description("With --optuna: Optuna's TPESampler(multivariate=True); without it multivariate=False.")]
    public bool OptunaMultivariate { get; init; }

    [CommandOption("--compare <NAME>")] [Description("With --optuna: which of --samplers the ratio and p-value compare with Optuna (default: the first).")]
    public string? Compare { get; init; }
}

/// <summary><c>ctb bench tuner</c>: TPE vs random on the standard functions, and suggestion overhead.</summary>
public sealed class BenchTunerCommand : Command<BenchTunerSettings>
{
    public override int Execute(CommandContext context, BenchTunerSettings settings, CancellationToken cancellation)
    {
        var functions = settings.Function is null ? BenchmarkFunction.Standard
            : BenchmarkFunction.Standard.Where(f => f.Name.Equals(settings.Function, StringComparison.OrdinalIgnoreCase)).ToList();
        if (functions.Count == 0) throw new ConfigException($"Unknown function '{settings.Function}'. Use one of: {string.Join(", ", BenchmarkFunction.Standard.Select(f => f.Name))}.");
        var samplers = settings.Samplers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (samplers.FirstOrDefault(s => !TunerBenchmark.SamplerNames.Contains(s)) is { } unknown || !samplers.Contains("TPE"))
            throw new ConfigException($"--samplers must include TPE and name only: {string.Join(", ", TunerBenchmark.SamplerNames)}.");
        var compared = settings.Compare ?? samplers[0];
        if (!samplers.Contains(compared))
            throw new ConfigException($"--compare {compared}: not one of --samplers ({string.Join(", ", samplers)}).");
        var log = new Progress<string>(m => Console.Error.WriteLine(m));
        IReadOnlyDictionary<string, IReadOnlyList<double>>? reference = null;
        string referenceName = "Optuna";
        if (settings.Optuna)
        {
            var (regrets, version, problem) = OptunaReference.Run(functions, settings.Evals, settings.Seeds, settings.OptunaMultivariate, settings.FirstSeed, log: log);
            if (regrets is null) throw new CtBuildException($"--optuna: {problem}", 2);
            (reference, referenceName) = (regrets, $"Optuna {version}" + (settings.OptunaMultivariate ? " mv" : ""));
        }
        var result = TunerBenchmark.Run(new TunerBenchmarkOptions
        {
            Seeds = settings.Seeds, FirstSeed = settings.FirstSeed, Budgets = [settings.Evals / 2, settings.Evals], Functions = functions, Samplers = samplers,
            Reference = reference, ReferenceName = referenceName,
            ComparedSampler = compared,
        }, log);
        if (settings.Json) Console.WriteLine(result.ToJson()); else Console.WriteLine(result.ToTable());
        return 0;
    }
}

public sealed class BenchBootstrapSettings : WorkspaceSettings
{
    [CommandOption("--rows <N>")] [Description("Test rows (default 1,000,000).")]
    public int Rows { get; init; } = 1_000_000;

    [CommandOption("--resamples <N>")] [Description("Paired resamples (default 1000).")]
    public int Resamples { get; init; } = 1000;
}

/// <summary><c>ctb bench bootstrap</c>: sort-once bootstrap vs the naive re-sorting one, and DeLong.</summary>
public sealed class BenchBootstrapCommand : Command<BenchBootstrapSettings>
{
    public override int Execute(CommandContext context, BenchBootstrapSettings settings, CancellationToken cancellation)
    {
        var result = BootstrapBenchmark.Run(settings.Rows, settings.Resamples);
        settings.Print(result, () => Console.WriteLine(result.Format()));
        return 0;
    }
}

public sealed class BenchIngestSettings : WorkspaceSettings
{
    [CommandOption("--rows <N>")] [Description("Rows of the generated CSV (default 5,000,000).")]
    public long Rows { get; init; } = 5_000_000;

    [CommandOption("--noop-files <N>")] [Description("Files in the many-files folder: first ingest vs DuckDB's glob read, then a no-op ingest (default 1000; 0 skips it).")]
    public int NoOpFiles { get; init; } = 1000;

    [CommandOption("--noop-mb <N>")] [Description("Total size of the many-files folder in MB (default 2100).")]
    public long NoOpMegabytes { get; init; } = 2100;

    [CommandOption("--dir <DIR>")] [Description("Scratch folder (default: a new temp folder, deleted after).")]
    public string? Dir { get; init; }

    [CommandOption("--repeats <N>")] [Description("Interleaved runs of (a) and (b); the medians are compared (default 3).")]
    public int Repeats { get; init; } = 3;

    [CommandOption("--inputs <LIST>")] [Description("Comma-separated inputs to time (default all): csv, csv-bad, csv-gz, parquet, parquet-bad, jsonl, jsonl-bad.")]
    public string? Inputs { get; init; }

    public IReadOnlyList<string> InputList => Inputs?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    public override ValidationResult Validate() =>
        Repeats < 1 ? ValidationResult.Error("--repeats must be at least 1")
        : InputList.FirstOrDefault(i => !IngestBenchmark.InputKeys.Contains(i)) is { } unknown
            ? ValidationResult.Error($"--inputs: unknown input '{unknown}'; the inputs are {string.Join(", ", IngestBenchmark.InputKeys)}")
        : base.Validate();
}

/// <summary><c>ctb bench ingest</c></summary>
public sealed class BenchIngestCommand : Command<BenchIngestSettings>
{
    public override int Execute(CommandContext context, BenchIngestSettings settings, CancellationToken cancellation)
    {
        var dir = settings.Dir ?? Directory.CreateTempSubdirectory("ctb-bench-").FullName;
        try
        {
            var result = IngestBenchmark.Run(settings.Rows, settings.NoOpFiles, settings.NoOpMegabytes, dir, new ConsoleLog(true), settings.Repeats, settings.InputList);
            settings.Print(result, () => Console.WriteLine(result.Format()));
        }
        finally
        {
            if (settings.Dir is null) Directory.Delete(dir, recursive: true);
        }
        return 0;
    }
}

public sealed class BenchTuneSettings : WorkspaceSettings
{
    [CommandOption("--trials <N>")] [Description("Trials per search (default 40; with --rows, plain TPE's trials, default 60).")]
    public int? Trials { get; init; }

    [CommandOption("--parallelism <N>")] [Description("Workers of the parallel search (default: cores).")]
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    [CommandOption("--rows <N>")] [Description("Instead: plain TPE vs low-cost start + successive halving on a generated N-row x 20-column dataset (e.g. 2000000); --trials is plain TPE's (default 60 then).")]
    public int? Rows { get; init; }

    [CommandOption("--seed <N>")] [Description("Seed of the generated rows and the samplers (default 42).")]
    public int Seed { get; init; } = 42;

    public override ValidationResult Validate() =>
        Rows is < 10_000 ? ValidationResult.Error("--rows must be at least 10000 (the smallest rung is 1/27 of the train rows)")
        : Trials is < 1 ? ValidationResult.Error("--trials must be at least 1")
        : base.Validate();
}

/// <summary><c>ctb bench tune</c>: the workspace's search at parallelism 1 and N (run ingest, features and split first).</summary>
public sealed class BenchTuneCommand : Command<BenchTuneSettings>
{
    public override int Execute(CommandContext context, BenchTuneSettings settings, CancellationToken cancellation)
    {
        if (settings.Rows is { } rows)
        {
            var fidelity = CtBuild.Tuning.Benchmarks.FidelityBenchmark.Run(settings.LoadWorkspace().Config.Tune.Space, rows, settings.Trials ?? 60, settings.Seed,
                settings.Parallelism, new Progress<string>(m => Console.Error.WriteLine(m)));
            settings.Print(fidelity, () => Console.WriteLine(fidelity.Format()));
            return 0;
        }
        var result = ParallelTuningBenchmark.Run(settings.LoadWorkspace(), settings.Trials ?? 40, settings.Parallelism,
            new Progress<string>(m => Console.Error.WriteLine(m)));
        settings.Print(result, () => Console.WriteLine(result.Format()));
        return 0;
    }
}

public sealed class BenchLakeSettings : WorkspaceSettings
{
    [CommandOption("--appends <LIST>")] [Description("Table lengths to measure, comma-separated (default 1000,10000).")]
    public string Appends { get; init; } = "1000,10000";

    [CommandOption("--repeats <N>")] [Description("Opens per measurement; the median is reported (default 5).")]
    public int Repeats { get; init; } = 5;

    public override ValidationResult Validate() =>
        Repeats < 1 ? ValidationResult.Error("--repeats must be at least 1")
        : Appends.Split(',').Any(a => !int.TryParse(a, out var n) || n < 11) ? ValidationResult.Error("--appends takes whole numbers of at least 11, e.g. 1000,10000")
        : base.Validate();
}

/// <summary><c>ctb bench lake</c>: time to snapshot after many appends, by full log replay vs from a checkpoint.</summary>
public sealed class BenchLakeCommand : Command<BenchLakeSettings>
{
    public override int Execute(CommandContext context, BenchLakeSettings settings, CancellationToken cancellation)
    {
        var dir = Directory.CreateTempSubdirectory("ctb-bench-lake-").FullName;
        try
        {
            var result = CtBuild.Lake.Benchmarks.LakeSnapshotBenchmark.Run(settings.Appends.Split(',').Select(int.Parse).ToList(), settings.Repeats, dir,
                new Progress<string>(m => Console.Error.WriteLine(m)));
            settings.Print(result, () => Console.WriteLine(result.Format()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return 0;
    }
}

public sealed class BenchGateSettings : WorkspaceSettings
{
    [CommandOption("--decisions <N>")] [Description("Simulated decisions per true ΔAUC and test size (default 200).")]
    public int Decisions { get; init; } = 200;

    [CommandOption("--resamples <N>")] [Description("Paired resamples per decision (default 1000, as the gate).")]
    public int Resamples { get; init; } = 1000;

    public override ValidationResult Validate() =>
        Decisions < 1 ? ValidationResult.Error("--decisions must be at least 1")
        : Resamples < 100 ? ValidationResult.Error("--resamples must be at least 100") : base.Validate();
}

/// <summary><c>ctb bench gate</c>: promotion rates per rule and guard at known true ΔAUC, and the 20-retrain flip probability.</summary>
public sealed class BenchGateCommand : Command<BenchGateSettings>
{
    public override int Execute(CommandContext context, BenchGateSettings settings, CancellationToken cancellation)
    {
        var result = GateSimulation.Run(settings.Decisions, settings.Resamples, progress: new Progress<string>(m => Console.Error.WriteLine(m)));
        if (settings.Json) Console.WriteLine(result.ToJson()); else Console.WriteLine(result.ToTable());
        return 0;
    }
}

public sealed class BenchWorkersSettings : WorkspaceSettings
{
    [CommandOption("--storage <URL>")] [Description("The PostgreSQL study storage (default: CTB_TUNE_STORAGE, then tune.storage).")]
    public string? Storage { get; init; }

    [CommandOption("--workers <LIST>")] [Description("Worker counts to compare, comma-separated (default 1,2).")]
    public string Workers { get; init; } = "1,2";

    [CommandOption("--trials <N>")] [Description("Trials in the study (default 40).")]
    public int Trials { get; init; } = 40;

    [CommandOption("--rows <N>")] [Description("Train on this many rows drawn in turn from the raw CSV files, each with a fresh key (default: the raw files as they are), e.g. 300000 for trials as long as on a bigger dataset.")]
    public long? Rows { get; init; }

    [CommandOption("--pin")] [Description("Also run each worker count with worker i held to core i (Linux's taskset), as on one-core machines; the free and pinned runs alternate.")]
    public bool Pin { get; init; }

    public override ValidationResult Validate() =>
        Pin && !OperatingSystem.IsLinux() ? ValidationResult.Error("--pin holds workers to cores with Linux's taskset; on this system run without it")
        : Trials < 1 ? ValidationResult.Error("--trials must be at least 1")
        : Rows is < 1000 ? ValidationResult.Error("--rows must be at least 1000") : base.Validate();
}

/// <summary><c>ctb bench workers</c>: one study run by 1, 2, … `ctb tune worker` processes on PostgreSQL, and the storage's cost per trial.</summary>
public sealed class BenchWorkersCommand : Command<BenchWorkersSettings>
{
    public override int Execute(CommandContext context, BenchWorkersSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var storage = CtBuild.Tuning.StudyStorages.Location(settings.Storage, ws.Config.Tune.Storage);
        if (!CtBuild.Tuning.PostgresUrl.IsPostgres(storage))
            throw new ConfigException("ctb bench workers needs a PostgreSQL study storage: pass --storage postgresql://user@host:5432/db (or set CTB_TUNE_STORAGE).");
        var counts = settings.Workers.Split(',').Select(w => int.TryParse(w, out var n) && n >= 1 ? n
            : throw new ConfigException($"--workers takes whole numbers >= 1 separated by commas, e.g. 1,2; got '{settings.Workers}'.")).ToList();
        var log = new Progress<string>(m => Console.Error.WriteLine(m));
        var result = CtBuild.Tuning.Benchmarks.WorkerScalingBenchmark.Run(ws, storage!, counts, settings.Trials, StartSelf, log, settings.Rows, settings.Pin);
        settings.Print(result, () => Console.WriteLine(result.Format()));
        return 0;
    }

    // Another ctb like this one: `dotnet ctb.dll …` when run through dotnet, else the apphost itself. A core to pin to goes
    // through taskset, before exec, so every thread the runtime and LightGBM start inherits it (Process.ProcessorAffinity
    // on Linux sets only the main thread's mask, after the runtime's own threads exist).
    static System.Diagnostics.Process StartSelf(string folder, IReadOnlyList<string> args, int? core)
    {
        var host = Environment.ProcessPath!;
        var psi = new System.Diagnostics.ProcessStartInfo(core is null ? host : "taskset") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        if (core is { } c) foreach (var a in new[] { "--cpu-list", c.ToString(System.Globalization.CultureInfo.InvariantCulture), host }) psi.ArgumentList.Add(a);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(BenchWorkersCommand).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        var process = System.Diagnostics.Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
