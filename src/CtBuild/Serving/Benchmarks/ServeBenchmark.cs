using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using CtBuild.Configuration;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using CtBuild.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Serving.Benchmarks;

/// <summary>Latency percentiles and throughput of one measured series.</summary>
/// <param name="CpuMsPerCall">This process's CPU time per call: for the server, its work and the client's together.</param>
public sealed record LatencySeries(string What, int Requests, int Failed, double Seconds, double P50Ms, double P99Ms, double MaxMs, double RowsPerSecond,
    double CpuMsPerCall)
{
    public double CallsPerSecond => Requests / Seconds;
}

/// <param name="OfferedRate">Single-record requests per second the client schedules (open loop).</param>
/// <param name="WarmUpSeconds">How long the discarded warm-up at the offered rate lasted (until the JIT had settled).</param>
public sealed record ServeBenchmarkResult(string Model, int Version, string LoadAverageBefore, string LoadAverageAfter, int Cores,
    double OfferedRate, double WarmUpSeconds, LatencySeries EngineSingle, LatencySeries ServerSingle, LatencySeries EngineBatch, LatencySeries ServerBatch,
    double RequestsPerFeaturesQuery)
{
    public const double P99GoalMs = 10, BatchGoal = 0.5;

    public double BatchRatio => ServerBatch.RowsPerSecond / EngineBatch.RowsPerSecond;

    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        string Row(LatencySeries s) => string.Format(c, "{0,-58} {1,9:N0} {2,6} {3,9:0.000} {4,9:0.000} {5,9:0.000} {6,12:N0} {7,8:0.000}",
            s.What, s.Requests, s.Failed, s.P50Ms, s.P99Ms, s.MaxMs, s.RowsPerSecond, s.CpuMsPerCall);
        string Goal(bool met) => met ? "met" : "NOT met";
        return string.Join(Environment.NewLine,
            $"Serving benchmark: {Model} v{Version}, {Cores} cores, loopback HTTP, load average {LoadAverageBefore} before, {LoadAverageAfter} after",
            "",
            string.Format(c, "{0,-58} {1,9} {2,6} {3,9} {4,9} {5,9} {6,12} {7,8}", "what", "requests", "failed", "p50 ms", "p99 ms", "max ms", "rows/s", "CPU ms"),
            new string('-', 127),
            Row(EngineSingle), Row(ServerSingle), Row(EngineBatch), Row(ServerBatch),
            "",
            string.Format(c, "single records: {0:N0} req/s offered, {1:N0} req/s answered ({2} failed), p50 {3:0.00} ms, p99 {4:0.00} ms; goal p99 < {5} ms at 500 req/s: {6}",
                OfferedRate, ServerSingle.CallsPerSecond, ServerSingle.Failed, ServerSingle.P50Ms, ServerSingle.P99Ms, P99GoalMs,
                Goal(OfferedRate >= 500 && ServerSingle.Failed == 0 && ServerSingle.P99Ms < P99GoalMs)),
            string.Format(c, "(after a {0:0} s warm-up at that rate, until the JIT had settled)", WarmUpSeconds),
            string.Format(c, "1,000-record batches: server {0:N0} rows/s = {1:P0} of the in-process PredictionEngine's {2:N0} rows/s; goal >= {3:P0}: {4}",
                ServerBatch.RowsPerSecond, BatchRatio, EngineBatch.RowsPerSecond, BatchGoal, Goal(ServerBatch.Failed == 0 && BatchRatio >= BatchGoal)),
            string.Format(c, "single-record requests per features query (concurrent requests batched): {0:0.00}", RequestsPerFeaturesQuery),
            "CPU ms = this process's CPU time per call (for the server: the server's and the client's work together); the machine's load average is above.");
    }
}

/// <summary>
/// <c>ctb bench serve</c>: starts the server on the workspace's champion (loopback, a free port) and drives it from
/// this process, next to the in-process <see cref="PredictionEngine{TSrc,TDst}"/> on the same records' features:
/// single-record requests at a fixed offered rate (open loop: latency counts from the scheduled send, so a stall
/// is not hidden by the client waiting) and 1,000-record batches from concurrent clients. Bounded by its counts.
/// </summary>
public static class ServeBenchmark
{
    public static async Task<ServeBenchmarkResult> RunAsync(Workspace ws, double rate = 500, double seconds = 10, int batches = 60,
        int clients = 2, IPipelineLog? log = null)
    {
        log ??= new MemoryLog();
        var before = LoadAverage();
        var reference = ModelReference.Parse(null, ws.Config.Name);
        var model = ServedModel.Load(ws, reference);
        var contract = PredictionContract.From(ws);
        var json = SampleRecords(ws, contract, 1000);

        // The baseline: the same records' features, scored in process by ML.NET's PredictionEngine.
        List<ModelInputRow> features;
        using (var session = new RecordSession(contract))
        {
            var (records, error) = RequestRecords.FromJson(Encoding.UTF8.GetBytes("[" + string.Join(",", json) + "]"), contract);
            if (error is not null || session.Load(records!) is { } bad)
                throw new CtBuildException($"bench serve: the sample records from the raw table do not pass the contract ({error?.Error ?? "a rule"}).");
            features = session.Features(model.Signature, records!.Count);
        }
        var engine = model.CreateEngine();
        var engineSingle = Measure("in-process PredictionEngine, one record per call", Math.Min(20_000, (int)(rate * seconds)), 1,
            i => { engine.Predict(features[i % features.Count]); return Task.CompletedTask; });
        var engineBatch = Measure("in-process PredictionEngine, 1,000-record batches", batches, features.Count,
            _ => { foreach (var f in features) engine.Predict(f); return Task.CompletedTask; });
        log.Info($"bench serve: baseline {engineSingle.P50Ms:0.000} ms p50 per record, {engineBatch.RowsPerSecond:N0} rows/s");

        await using var server = await PredictionServer.StartAsync(ws, new ServeOptions(reference, Port: 0, PollInterval: TimeSpan.FromMinutes(10)), log);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        var single = json.Select(j => Encoding.UTF8.GetBytes(j)).ToArray();
        var batch = Encoding.UTF8.GetBytes("[" + string.Join(",", json) + "]");
        // Warm-up at the offered rate, discarded: a server answers in steady state, after the JIT has tiered up its hot
        // paths and the pools and connections for concurrent requests exist (300 requests one at a time left the
        // concurrent path cold and put its start-up in the measured p99). It lasts until a second of it compiles
        // almost nothing: after a fixed 3 s the tiered JIT went on recompiling for seconds, on a core the requests need.
        for (var i = 0; i < 300; i++) await Send(http, single[i % single.Length]);
        var warmUp = Stopwatch.StartNew();
        long compiled;
        do
        {
            compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            await OpenLoop(http, single, rate, 1);
        }
        while (System.Runtime.JitInfo.GetCompiledMethodCount() - compiled > WarmMethodsPerSecond && warmUp.Elapsed < MaxWarmUp);
        warmUp.Stop();

        var counts = server.Batcher.Counts;
        var serverSingle = await OpenLoop(http, single, rate, seconds);
        var (queries, requests) = server.Batcher.Counts;
        var perQuery = (requests - counts.Requests) / (double)Math.Max(1, queries - counts.Queries);
        log.Info($"bench serve: {serverSingle.Requests} single-record requests at {rate} req/s: p50 {serverSingle.P50Ms:0.00} ms, p99 {serverSingle.P99Ms:0.00} ms");
        var serverBatch = await ClosedLoop(http, batch, features.Count, batches, clients);
        log.Info($"bench serve: {serverBatch.Requests} batches of {features.Count}: {serverBatch.RowsPerSecond:N0} rows/s");
        return new ServeBenchmarkResult(model.Name, model.Version, before, LoadAverage(), Environment.ProcessorCount, rate,
            warmUp.Elapsed.TotalSeconds, engineSingle, serverSingle, engineBatch, serverBatch, perQuery);
    }

    /// <summary>The warm-up ends after a second that compiled at most this many methods (or at <see cref="MaxWarmUp"/>).</summary>
    const int WarmMethodsPerSecond = 10;

    static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(20);

    /// <summary>The first records of the raw table, as the JSON objects a client would send (no label).</summary>
    static List<string> SampleRecords(Workspace ws, PredictionContract contract, int count)
    {
        var raw = DeltaTable.At(Path.Combine(ws.LakeDir, "raw"));
        if (!raw.Exists) throw new CtBuildException($"bench serve needs the raw table in {ws.LakeDir}: run the pipeline first (`ctb run`).");
        using var db = DuckDb.Open();
        var fields = string.Join(", ", contract.Columns.Select(c => $"{Ident(c)} := {Ident(c)}"));
        var order = contract.Key is { } k ? Ident(k) : "_source_file, _source_line";
        return db.Query($"SELECT to_json(struct_pack({fields}))::VARCHAR FROM {raw.Snapshot().ToDuckDbSql()} ORDER BY {order} LIMIT {count}", r => r.GetString(0));
    }

    static LatencySeries Measure(string what, int calls, int rowsPerCall, Func<int, Task> call)
    {
        for (var i = 0; i < Math.Min(200, calls); i++) call(i).GetAwaiter().GetResult();
        var times = new double[calls];
        var cpu = CpuMs();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            var start = clock.Elapsed.TotalMilliseconds;
            call(i).GetAwaiter().GetResult();
            times[i] = clock.Elapsed.TotalMilliseconds - start;
        }
        return Series(what, times, 0, clock.Elapsed.TotalSeconds, (long)calls * rowsPerCall, cpu);
    }

    static async Task<LatencySeries> OpenLoop(HttpClient http, byte[][] bodies, double rate, double seconds)
    {
        var count = (int)(rate * seconds);
        var times = new double[count];
        var failed = 0;
        var cpu = CpuMs();
        var clock = Stopwatch.StartNew();
        var pending = new Task[count];
        async Task Timed(int index, double due)
        {
            if (!await Send(http, bodies[index % bodies.Length])) Interlocked.Increment(ref failed);
            times[index] = clock.Elapsed.TotalMilliseconds - due; // from when it was due, not when it was sent
        }
        // One thread sends each request when it is due, sleeping in between: it may send a little late, which counts in
        // the latency. Spinning to send on time cost this process more CPU than the server's work on a request.
        await Task.Factory.StartNew(() =>
        {
            for (var i = 0; i < count; i++)
            {
                var due = i * 1000.0 / rate;
                while (clock.Elapsed.TotalMilliseconds < due) Thread.Sleep(1);
                pending[i] = Timed(i, due);
            }
        }, TaskCreationOptions.LongRunning);
        await Task.WhenAll(pending);
        return Series($"server, one record per request, {rate:N0} req/s offered", times, failed, clock.Elapsed.TotalSeconds, count, cpu);
    }

    static async Task<LatencySeries> ClosedLoop(HttpClient http, byte[] body, int rows, int batches, int clients)
    {
        var times = new double[batches];
        var failed = 0;
        var next = -1;
        var cpu = CpuMs();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches)
            {
                var start = clock.Elapsed.TotalMilliseconds;
                if (!await Send(http, body)) Interlocked.Increment(ref failed);
                times[i] = clock.Elapsed.TotalMilliseconds - start;
            }
        })));
        return Series($"server, 1,000-record batches, {clients} clients", times, failed, clock.Elapsed.TotalSeconds, (long)batches * rows, cpu);
    }

    static async Task<bool> Send(HttpClient http, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await http.PostAsync("/predict", content);
            await response.Content.ReadAsByteArrayAsync();
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; } // counted as failed (timeout: 30 s)
    }

    static LatencySeries Series(string what, double[] times, int failed, double seconds, long rows, double cpuMsAtStart)
    {
        var sorted = times.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new LatencySeries(what, times.Length, failed, seconds, At(0.50), At(0.99), sorted[^1], rows / seconds,
            (CpuMs() - cpuMsAtStart) / times.Length);
    }

    static double CpuMs() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
