using CtBuild.Cli;
using CtBuild.Cli.Commands;
using Spectre.Console.Cli;

// With --json, stdout carries the JSON result only: GitHub workflow commands (groups, annotations) go
// to stderr, which the Actions runner reads for commands as well.
CtBuild.GitHub.GitHubActions.CommandsToStderr = args.Contains("--json");

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("ctb");
    config.SetApplicationVersion(ToolVersion.Describe());
    // An option a verb does not have (`ctb tune --no-commit`) is a usage error, not silently ignored.
    config.UseStrictParsing();
    config.SetExceptionHandler((ex, _) => ErrorReporter.Report(ex));
    config.AddExample("ingest");
    config.AddExample("status", "--json");

    config.AddCommand<IngestCommand>("ingest")
        .WithDescription("Capture new files from the raw folder into the lake's raw table; quarantine rows that break the contract.")
        .WithExample("ingest").WithExample("ingest", "--force", "--json").WithExample("ingest", "--quarantine-file", "day-7.csv");
    config.AddCommand<StageCommand<CtBuild.Stages.FeaturesStage>>("features")
        .WithDescription("Run the features SQL over the raw table's snapshot; write a new features version when the content changed.")
        .WithExample("features");
    config.AddCommand<StageCommand<CtBuild.Stages.SplitStage>>("split")
        .WithDescription("Assign train/valid/test from a hash of the key; write the splits table.")
        .WithExample("split");
    config.AddBranch<WorkspaceSettings>("tune", tune =>
    {
        tune.SetDescription("Search hyperparameters over ML.NET trainers; every trial is a tracked run; the best is the candidate.");
        tune.SetDefaultCommand<StageCommand<CtBuild.Stages.TuneStage>>();
        tune.AddExample("tune");
        tune.AddExample("tune", "--force");
        tune.AddCommand<TuneWorkerCommand>("worker")
            .WithDescription("Run trials of the shared study (tune.storage, e.g. PostgreSQL) until its budget is spent, then exit 0.")
            .WithExample("tune", "worker", "--storage", "postgresql://ctb@db.internal:5432/ctb")
            .WithExample("tune", "worker", "--env", "prod", "--json");
    });
    config.AddCommand<StageCommand<CtBuild.Stages.EvaluateStage>>("evaluate")
        .WithDescription("Score candidate and champion on the same test snapshot; paired bootstrap + DeLong; decide.")
        .WithExample("evaluate");
    config.AddCommand<StageCommand<CtBuild.Stages.ReportStage>>("report")
        .WithDescription("Render the HTML report and Markdown summary into the reports folder.")
        .WithExample("report");
    config.AddCommand<StageCommand<CtBuild.Stages.PromoteStage, CommitSettings>>("promote")
        .WithDescription("When the decision is to promote: register the version, move the champion alias, commit models/.")
        .WithExample("promote").WithExample("promote", "--no-commit");
    config.AddCommand<InitCommand>("init")
        .WithDescription("Write a workspace (ctbuild.json with a contract inferred from the data, features SQL, build.cake, tool manifest, workflow) from one data file.")
        .WithExample("init", "--data", "titanic.csv", "--label", "survived", "--positive", "survived")
        .WithExample("init", "--data", "adult.csv.gz", "--label", "income", "--positive", ">50K", "--name", "adult-income");
    config.AddCommand<SchemaCommand>("schema")
        .WithDescription("Print the JSON Schema of ctbuild.json (ctb init writes it as ctbuild.schema.json; \"$schema\" names it).")
        .WithExample("schema");
    config.AddCommand<PublishCommand>("publish")
        .WithDescription("Write a registered version (champion by default) as a verified, optionally signed bundle into shared storage.")
        .WithExample("publish", "adult-income", "--to", "/mnt/shared/ctb").WithExample("publish", "--version", "3", "--to", "/mnt/shared/ctb", "--env", "dev")
        .WithExample("publish", "--to", "az://myaccount/models/ctb", "--env", "dev");
    config.AddCommand<ImportCommand>("import")
        .WithDescription("Verify a published bundle, score it on this environment's test split and promote it if it beats the champion.")
        .WithExample("import", "--from", "/mnt/shared/ctb", "--env", "prod").WithExample("import", "--from", "/mnt/shared/ctb", "--require-signature", "--env", "prod")
        .WithExample("import", "--from", "az://myaccount/models/ctb", "--env", "prod");
    config.AddCommand<PredictCommand>("predict")
        .WithDescription("Score a file or lake table with a registered model (default: the champion), verified against its sha256; bad records go to rejects.")
        .WithExample("predict", "--input", "data/incoming/adult-2026-11-03.parquet", "--output", "predictions.parquet")
        .WithExample("predict", "--input", "features@3", "--model", "adult-income:2", "--output", "scores.csv", "--to-lake");
    config.AddCommand<ServeCommand>("serve")
        .WithDescription("Serve the champion over HTTP (POST /predict, GET /health /model /metrics), following the alias as it moves.")
        .WithExample("serve").WithExample("serve", "--model", "adult-income@champion", "--port", "8080", "--host", "127.0.0.1");
    config.AddCommand<RunCommand>("run")
        .WithDescription("Run every stage up to --to (default promote), skipping those that are up to date.")
        .WithExample("run").WithExample("run", "--to", "report");
    config.AddCommand<StatusCommand>("status")
        .WithDescription("Show which stages are up to date and why the others are stale.")
        .WithExample("status").WithExample("status", "--stage", "tune", "--json");

    config.AddBranch("lake", lake =>
    {
        lake.SetDescription("Look at and maintain the versioned lake tables.");
        lake.AddCommand<LakeTablesCommand>("tables").WithDescription("List the lake's tables.").WithExample("lake", "tables");
        lake.AddCommand<LakeHistoryCommand>("history").WithDescription("A table's versions, newest first.").WithExample("lake", "history", "raw");
        lake.AddCommand<LakeShowCommand>("show").WithDescription("Rows of a table at a version or time.")
            .WithExample("lake", "show", "features", "--version", "0", "--limit", "5")
            .WithExample("lake", "show", "raw", "--as-of", "2026-11-27T08:00:00Z");
        lake.AddCommand<LakeDiffCommand>("diff").WithDescription("Schema, row counts and per-column drift (PSI) between two versions.")
            .WithExample("lake", "diff", "features", "0", "1");
        lake.AddCommand<LakeOptimizeCommand>("optimize").WithDescription("Rewrite many small data files into few, as one dataChange=false commit.")
            .WithExample("lake", "optimize", "raw").WithExample("lake", "optimize", "raw", "--target-size", "64MB", "--json");
        lake.AddCommand<LakeVacuumCommand>("vacuum").WithDescription("List (or with --apply delete) data files no version inside the retention window needs.")
            .WithExample("lake", "vacuum", "raw", "--retain", "7d").WithExample("lake", "vacuum", "raw", "--retain", "7d", "--apply");
    });
    config.AddBranch("runs", runs =>
    {
        runs.SetDescription("Look at tracked runs.");
        runs.AddCommand<RunsListCommand>("list").WithDescription("List runs, filtered and ordered.")
            .WithExample("runs", "list", "--filter", "metrics.auc > 0.9", "--order-by", "metrics.auc DESC");
        runs.AddCommand<RunsShowCommand>("show").WithDescription("Everything about one run.").WithExample("runs", "show", "<run-id>");
        runs.AddCommand<RunsCompareCommand>("compare").WithDescription("Params and metrics side by side.").WithExample("runs", "compare", "<id1>", "<id2>");
    });
    config.AddBranch("registry", registry =>
    {
        registry.SetDescription("Look at and manage the model registry (models/, recorded in git).");
        registry.AddCommand<RegistryListCommand>("list").WithDescription("Registered models and their champions.").WithExample("registry", "list");
        registry.AddCommand<RegistryShowCommand>("show").WithDescription("A model, or one version of it.").WithExample("registry", "show", "adult-income", "--version", "1");
        registry.AddCommand<RegistryHistoryCommand>("history").WithDescription("Who held the champion alias when, and why.").WithExample("registry", "history", "adult-income");
        registry.AddCommand<RegistryRollbackCommand>("rollback").WithDescription("Move the champion back (a new event and a commit).")
            .WithExample("registry", "rollback", "adult-income").WithExample("registry", "rollback", "adult-income", "--to", "1");
    });
    config.AddBranch("bench", bench =>
    {
        bench.SetDescription("Benchmarks that print figures against a baseline measured in the same run.");
        bench.AddCommand<BenchTunerCommand>("tuner").WithDescription("TPE vs random on standard test functions.")
            .WithExample("bench", "tuner", "--evals", "100", "--seeds", "10");
        bench.AddCommand<BenchTuneCommand>("tune").WithDescription("The workspace's search space at parallelism 1 and 2: wall times and speed-up; with --rows, plain TPE vs low-cost start + successive halving on generated rows.")
            .WithExample("bench", "tune", "--trials", "40").WithExample("bench", "tune", "--rows", "2000000");
        bench.AddCommand<BenchBootstrapCommand>("bootstrap").WithDescription("Sorted-once bootstrap vs naive, and DeLong, on 1M rows.")
            .WithExample("bench", "bootstrap");
        bench.AddCommand<BenchGateCommand>("gate").WithDescription("The gate on simulated champion/candidate pairs: promotion rates per rule and guard, 20-retrain flip probability.")
            .WithExample("bench", "gate", "--decisions", "200");
        bench.AddCommand<BenchIngestCommand>("ingest").WithDescription("DuckDB's CSV→Parquet copy vs CtBuild's Ingest of the same file; no-op ingest over many files.")
            .WithExample("bench", "ingest", "--rows", "5000000");
        bench.AddCommand<BenchLakeCommand>("lake").WithDescription("Time to open a table after 1,000 and 10,000 appends, by full log replay vs from a checkpoint.")
            .WithExample("bench", "lake").WithExample("bench", "lake", "--appends", "1000,10000", "--repeats", "5");
        bench.AddCommand<BenchWorkersCommand>("workers").WithDescription("One study run by 1, 2, … tuning worker processes on PostgreSQL: wall times and speed-up against N independent studies (the machine's ceiling), and the storage's cost per trial.")
            .WithExample("bench", "workers", "--storage", "postgresql://ctb@127.0.0.1:5432/ctb", "--workers", "1,2", "--trials", "40");
        bench.AddCommand<BenchServeCommand>("serve").WithDescription("ctb serve on the champion over loopback vs the in-process PredictionEngine: p50/p99 at a fixed rate, batch rows/s.")
            .WithExample("bench", "serve", "--rate", "500", "--seconds", "10");
        bench.AddCommand<BenchPredictCommand>("predict").WithDescription("ctb predict on generated rows vs DuckDB's read of the same file: rows/s and peak memory.")
            .WithExample("bench", "predict", "--rows", "5000000");
    });
});
return app.Run(args);
