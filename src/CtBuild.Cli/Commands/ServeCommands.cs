using System.ComponentModel;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Serving;
using Spectre.Console;
using Spectre.Console.Cli;

namespace CtBuild.Cli.Commands;

public class ModelSettings : WorkspaceSettings
{
    [CommandOption("-m|--model <MODEL>")]
    [Description("name, name@alias or name:version (default: the config's model @champion).")]
    public string? Model { get; init; }

    public ModelReference Reference(CtBuild.Configuration.Workspace ws) => ModelReference.Parse(Model, ws.Config.Name);
}

public sealed class PredictSettings : ModelSettings
{
    [CommandOption("-i|--input <FILE|TABLE>")]
    [Description("A CSV, .csv.gz, Parquet or JSON-lines file shaped like the raw data, or a lake table name[@version] (raw, features, splits).")]
    public string? Input { get; init; }

    [CommandOption("-o|--output <FILE>")]
    [Description("predictions.parquet or .csv; rejected records go beside it as <name>.rejects.<ext>.")]
    public string? Output { get; init; }

    [CommandOption("--to-lake")]
    [Description("Also append the predictions to the lake table 'predictions' (its commit records model version and input).")]
    public bool ToLake { get; init; }

    public override ValidationResult Validate() =>
        PublishSettings.Required(Input, "--input <FILE|TABLE> is required: the records to score.")
        ?? PublishSettings.Required(Output, "--output <FILE> is required: where the predictions go (.parquet or .csv).")
        ?? base.Validate();
}

/// <summary><c>ctb predict</c>: scores a file or lake table with a registered model (verified against its sha256).</summary>
public sealed class PredictCommand : Command<PredictSettings>
{
    public override int Execute(CommandContext context, PredictSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var log = settings.Log();
        using var workspaceLock = settings.ToLake ? WorkspaceLock.Acquire(ws.StateDir, "ctb predict --to-lake", Durations.Parse(ws.Config.Lock.Wait), log) : null;
        var result = BatchPredictor.Run(ws, new PredictOptions(settings.Input!, settings.Output!, settings.Reference(ws), settings.ToLake), log);
        settings.Print(result, () =>
        {
            Console.WriteLine($"{result.Model} v{result.Version}: {result.InputRows:N0} records from {result.Input}: {result.Scored:N0} scored, {result.Rejected:N0} rejected");
            Console.WriteLine($"  predictions: {result.Output}");
            Console.WriteLine($"  rejects:     {result.RejectsFile}");
            foreach (var r in result.TopReasons) Console.WriteLine($"    {r.Rows,8:N0}  {r.Column}: {r.Rule}");
            if (result.PredictionsVersion is { } v) Console.WriteLine($"  lake:        {BatchPredictor.PredictionsTable} v{v}");
            Console.WriteLine($"  {result.RowsPerSecond:N0} rows/s ({result.Seconds:0.0} s), peak working set {result.PeakWorkingSetBytes / (1 << 20):N0} MiB");
        });
        return 0;
    }
}

public sealed class ServeSettings : ModelSettings
{
    [CommandOption("-p|--port <PORT>")] [Description("The port (default 8080; 0 picks a free one).")]
    public int Port { get; init; } = 8080;

    [CommandOption("--host <ADDRESS>")] [Description("The address to listen on (default 127.0.0.1, this machine only).")]
    public string Host { get; init; } = "127.0.0.1";

    [CommandOption("--max-body <BYTES>")] [Description("Refuse request bodies larger than this (default 8388608).")]
    public long MaxBody { get; init; } = 8 << 20;

    [CommandOption("--poll <SECONDS>")] [Description("How often to check whether the alias moved (default 2).")]
    public double Poll { get; init; } = 2;

    public override ValidationResult Validate() =>
        Port is < 0 or > 65535 ? ValidationResult.Error("--port must be between 0 and 65535")
        : !System.Net.IPAddress.TryParse(Host, out _) ? ValidationResult.Error($"--host {Host} is not an IP address (e.g. 127.0.0.1)")
        : Poll <= 0 ? ValidationResult.Error("--poll must be more than 0 seconds")
        : base.Validate();
}

/// <summary><c>ctb serve</c>: an HTTP server that scores with the champion and follows the alias; SIGTERM finishes requests in flight.</summary>
public sealed class ServeCommand : AsyncCommand<ServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServeSettings settings, CancellationToken cancellation)
    {
        var ws = settings.LoadWorkspace();
        var log = new ConsoleLog(true);
        await using var server = await PredictionServer.StartAsync(ws,
            new ServeOptions(settings.Reference(ws), settings.Host, settings.Port, settings.MaxBody, TimeSpan.FromSeconds(settings.Poll)), log);
        if (settings.Json) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { address = server.Address, model = server.Current.Name, version = server.Current.Version }));
        else Console.WriteLine($"serving {server.Current} on {server.Address} (POST /predict, GET /health /model /metrics); Ctrl+C or SIGTERM stops");
        await using (cancellation.Register(() => _ = server.StopAsync()))
            await server.WaitForShutdownAsync();
        log.Info("serve: stopped; requests in flight were finished");
        return 0;
    }
}

public sealed class BenchServeSettings : WorkspaceSettings
{
    [CommandOption("--rate <N>")] [Description("Single-record requests per second offered (default 500).")]
    public double Rate { get; init; } = 500;

    [CommandOption("--seconds <N>")] [Description("How long the fixed-rate series runs (default 10).")]
    public double Seconds { get; init; } = 10;

    [CommandOption("--batches <N>")] [Description("1,000-record batches sent (default 60).")]
    public int Batches { get; init; } = 60;

    [CommandOption("--clients <N>")] [Description("Concurrent clients sending batches (default 2).")]
    public int Clients { get; init; } = 2;

    public override ValidationResult Validate() =>
        Rate <= 0 || Seconds <= 0 || Batches < 1 || Clients < 1 ? ValidationResult.Error("--rate, --seconds, --batches and --clients must be positive") : base.Validate();
}

/// <summary><c>ctb bench serve</c>: the server on the champion over loopback vs the in-process PredictionEngine.</summary>
public sealed class BenchServeCommand : AsyncCommand<BenchServeSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BenchServeSettings settings, CancellationToken cancellation)
    {
        var result = await CtBuild.Serving.Benchmarks.ServeBenchmark.RunAsync(settings.LoadWorkspace(), settings.Rate, settings.Seconds,
            settings.Batches, settings.Clients, new ConsoleLog(true));
        settings.Print(result, () => Console.WriteLine(result.Format()));
        return 0;
    }
}

public sealed class BenchPredictSettings : WorkspaceSettings
{
    [CommandOption("--rows <N>")] [Description("Rows of the generated CSV (default 5,000,000).")]
    public long Rows { get; init; } = 5_000_000;

    [CommandOption("--dir <DIR>")] [Description("Scratch folder (default: a new temp folder, deleted after).")]
    public string? Dir { get; init; }

    public override ValidationResult Validate() => Rows < 1 ? ValidationResult.Error("--rows must be at least 1") : base.Validate();
}

/// <summary><c>ctb bench predict</c>: ctb predict on generated rows vs DuckDB's read of the same file; rows/s and peak memory.</summary>
public sealed class BenchPredictCommand : Command<BenchPredictSettings>
{
    public override int Execute(CommandContext context, BenchPredictSettings settings, CancellationToken cancellation)
    {
        var dir = settings.Dir ?? Directory.CreateTempSubdirectory("ctb-bench-predict-").FullName;
        try
        {
            var result = CtBuild.Serving.Benchmarks.PredictBenchmark.Run(settings.LoadWorkspace(), settings.Rows, dir, new ConsoleLog(true));
            settings.Print(result, () => Console.WriteLine(result.Format()));
        }
        finally
        {
            if (settings.Dir is null) Directory.Delete(dir, recursive: true);
        }
        return 0;
    }
}
