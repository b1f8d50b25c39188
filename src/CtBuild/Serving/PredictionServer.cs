using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CtBuild.Serving;

/// <param name="Port">0 picks a free port (see <see cref="PredictionServer.Address"/>).</param>
/// <param name="MaxBodyBytes">Larger request bodies are refused with 413.</param>
/// <param name="PollInterval">How often the alias is checked for a new version.</param>
public sealed record ServeOptions(ModelReference Model, string Host = "127.0.0.1", int Port = 8080, long MaxBodyBytes = 8 << 20,
    TimeSpan? PollInterval = null, TimeSpan? ShutdownTimeout = null);

/// <summary>
/// <c>ctb serve</c>: Kestrel (ASP.NET Core from the SDK) in front of a <see cref="ChampionFollower"/>.
/// <c>POST /predict</c> scores JSON or CSV records; <c>GET /health</c>, <c>/model</c>, <c>/metrics</c> describe it.
/// Stopping (SIGTERM, Ctrl+C or <see cref="StopAsync"/>) refuses new connections and lets requests in flight finish.
/// </summary>
public sealed class PredictionServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly ChampionFollower _follower;
    readonly PredictionContract _contract;
    readonly ConcurrentBag<RecordSession> _sessions = []; // for reading CSV bodies and checking a model's signature
    readonly RecordBatcher _batcher;
    readonly ServerMetrics _metrics = new();
    readonly ServeOptions _options;
    readonly double _threshold;
    readonly CancellationTokenSource _stop = new();
    Task? _following;

    PredictionServer(Workspace ws, ServeOptions options, IPipelineLog log)
    {
        _options = options;
        _threshold = ws.Config.Evaluate.Threshold;
        _contract = PredictionContract.From(ws);
        // Refuses to start on a model that fails verification: Load throws before anything listens.
        var model = ServedModel.Load(ws, options.Model);
        if (Accept(model) is { } reason) throw new CtBuildException($"{model} cannot be served: {reason}", 2);
        _follower = new ChampionFollower(ws, options.Model, model, Accept, log, _metrics);
        _batcher = new RecordBatcher(_contract, Math.Max(1, Environment.ProcessorCount));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = ws.Root, Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout ?? TimeSpan.FromSeconds(30));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse(options.Host), options.Port);
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        _app = builder.Build();
        _app.MapPost("/predict", (Func<HttpContext, Task<IResult>>)Predict);
        _app.MapGet("/health", Health);
        _app.MapGet("/model", () => Results.Json(Describe(_follower.Current)));
        _app.MapGet("/metrics", () => Results.Text(_metrics.Render(_follower.Current), "text/plain; version=0.0.4; charset=utf-8"));
    }

    /// <summary>The server's address, e.g. http://127.0.0.1:51234 (the real port when started with port 0).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The model the next request is scored with.</summary>
    public ServedModel Current => _follower.Current;

    public ServerMetrics Metrics => _metrics;

    public RecordBatcher Batcher => _batcher;

    /// <summary>Loads and verifies the model, then starts listening and following the alias.</summary>
    public static async Task<PredictionServer> StartAsync(Workspace ws, ServeOptions options, IPipelineLog log)
    {
        var server = new PredictionServer(ws, options, log);
        try { await server._app.StartAsync(); }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await server._app.DisposeAsync();
            await server._batcher.DisposeAsync();
            throw new CtBuildException($"Cannot listen on {options.Host}:{options.Port}: the address is already in use. Stop whatever listens there, or pick another --port (0 picks a free one).", 1, e);
        }
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address.Replace("[::]", "127.0.0.1"));
        server._following = server._follower.RunAsync(options.PollInterval ?? TimeSpan.FromSeconds(2), server._stop.Token);
        log.Info($"serve: {server.Current} (sha256 {server.Current.Sha256[..12]}… verified) on {server.Address}, following {options.Model}" +
                 (options.Model.FollowsAlias ? "" : " (a fixed version: not followed)"));
        return server;
    }

    /// <summary>Checks the alias now instead of waiting for the next poll; true when it swapped.</summary>
    public bool PollNow() => _follower.Poll();

    /// <summary>Completes when the host is stopping (SIGTERM, Ctrl+C) and requests in flight have finished.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public async Task StopAsync()
    {
        _stop.Cancel();
        await _app.StopAsync();
        if (_following is not null) await _following;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        await _app.DisposeAsync();
        await _batcher.DisposeAsync();
        while (_sessions.TryTake(out var s)) s.Dispose();
    }

    string? Accept(ServedModel model)
    {
        var session = Rent();
        try { session.CheckSignature(model); return null; }
        catch (CtBuildException e) { return e.Message; }
        finally { _sessions.Add(session); }
    }

    RecordSession Rent() => _sessions.TryTake(out var s) ? s : new RecordSession(_contract);

    async Task<IResult> Predict(HttpContext http)
    {
        var clock = Stopwatch.StartNew();
        _metrics.Started();
        var model = _follower.Current; // this request is scored by this version, whatever swaps meanwhile
        var (result, rows) = await Score(http, model);
        _metrics.Finished("/predict", StatusOf(result), clock.Elapsed.TotalSeconds, rows);
        return result;
    }

    async Task<(IResult Result, int Rows)> Score(HttpContext http, ServedModel model)
    {
        var request = http.Request;
        if (request.ContentLength > _options.MaxBodyBytes) return (TooLarge(), 0);
        var mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "application/json";
        if (mediaType is not ("application/json" or "text/csv"))
            return (Error(new RequestError(415, $"Content-Type {mediaType} is not accepted: send application/json (an array of records or one record) or text/csv (a header line, then records).")), 0);
        byte[] buffer;
        int length;
        try { (buffer, length) = await ReadBody(request.Body, request.ContentLength, http.RequestAborted); }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge) { return (TooLarge(), 0); }

        try
        {
            var body = buffer.AsMemory(0, length);
            var (records, error) = mediaType == "text/csv" ? await ReadCsv(body) : RequestRecords.FromJson(body, _contract);
            if (error is not null) return (Error(error), 0);
            var features = await _batcher.FeaturesAsync(records!, model.Signature);
            if (features.Violation is { } bad)
                return (Error(new RequestError(400, $"record {bad.Record}, field '{bad.Field}': {bad.Reason}. No record of this request was scored.", bad.Record, bad.Field)), 0);
            var scores = model.Score(features.Rows!);
            var predictions = scores.Select(s => new Prediction(s, s >= _threshold)).ToList();
            return (Results.Json(new PredictResponse(model.Name, model.Version, predictions)), predictions.Count);
        }
        catch (CtBuildException e) { return (Error(new RequestError(500, e.Message)), 0); }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>
    /// The body in a pooled buffer: a batch's body is larger than the large-object threshold, and allocating it (and a
    /// MemoryStream's doublings) per request made the runtime collect generation 2 every few batches.
    /// </summary>
    static async Task<(byte[] Buffer, int Length)> ReadBody(Stream body, long? contentLength, CancellationToken cancel)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(contentLength ?? 16 << 10, int.MaxValue - 1) + 1); // + 1: room to see the end
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await body.ReadAsync(buffer.AsMemory(length), cancel);
                if (read == 0) return (buffer, length);
                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    async Task<(List<string?[]>? Records, RequestError? Error)> ReadCsv(ReadOnlyMemory<byte> body)
    {
        var session = Rent();
        var csvFile = Path.Combine(Path.GetTempPath(), $"ctb-serve-{Guid.NewGuid():N}.csv");
        try
        {
            await using (var file = File.Create(csvFile)) await file.WriteAsync(body);
            return session.ReadCsv(csvFile);
        }
        finally
        {
            _sessions.Add(session);
            File.Delete(csvFile);
        }
    }

    IResult Health(HttpContext http)
    {
        var stopping = _stop.IsCancellationRequested || http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;
        var model = _follower.Current;
        return Results.Json(new { status = stopping ? "stopping" : "ready", model = model.Name, version = model.Version },
            statusCode: stopping ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    object Describe(ServedModel m) => new
    {
        name = m.Name,
        version = m.Version,
        reference = _options.Model.ToString(),
        trainer = m.Record.Trainer,
        trainerParams = m.Record.TrainerParams,
        metrics = m.Record.Metrics,
        dataVersions = m.Record.DataVersions,
        threshold = _threshold,
        inputSignature = m.Record.InputSignature.Select(c => new { name = c.Name, kind = c.Type }),
        inputFields = _contract.Columns.Select(c => new { name = c, type = _contract.Ingest.Columns[c].Type, nullable = _contract.Ingest.Columns[c].Nullable }),
        sha256 = m.Sha256,
        created = m.Record.Created,
        sourceRunId = m.Record.SourceRunId,
    };

    IResult TooLarge() => Error(new RequestError(413,
        $"The request body is larger than the limit of {_options.MaxBodyBytes:N0} bytes. Send fewer records per request (or start the server with a larger --max-body)."));

    static IResult Error(RequestError e) => Results.Json(new { error = e.Error, record = e.Record, field = e.Field }, statusCode: e.Status);

    static int StatusOf(IResult result) => result is IStatusCodeHttpResult { StatusCode: { } code } ? code : 200;

    public sealed record Prediction(double Score, bool Label);

    public sealed record PredictResponse(string Model, int Version, IReadOnlyList<Prediction> Predictions);
}
