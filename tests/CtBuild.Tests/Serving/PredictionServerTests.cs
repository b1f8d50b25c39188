using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Serving;
using CtBuild.Tests.Support;
using static CtBuild.Tests.Serving.ServingTestData;

namespace CtBuild.Tests.Serving;

[Collection(TrainedTemplateGroup.Name)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync")]
public sealed class PredictionServerTests(TrainedTemplate template) : IAsyncLifetime
{
    readonly TempWorkspace _ws = template.Copy();
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    PredictionServer _server = null!;

    public async Task InitializeAsync() => _server = await Start();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _http.Dispose();
        _ws.Dispose();
    }

    // Port 0: the OS picks a free loopback port, so tests run in parallel.
    Task<PredictionServer> Start(string model = "small-model", long maxBody = 64 << 10) =>
        PredictionServer.StartAsync(_ws.Load(), new ServeOptions(ModelReference.Parse(model, "small-model"), Port: 0, MaxBodyBytes: maxBody,
            PollInterval: TimeSpan.FromMilliseconds(100)), _ws.Log);

    Uri Url(string path) => new(_server.Address, path);

    async Task<(HttpStatusCode Status, JsonElement Body)> Post(string body, string contentType = "application/json")
    {
        using var response = await _http.PostAsync(Url("/predict"), new StringContent(body, Encoding.UTF8, contentType));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    static string Record(int id, int age, string city, double score) =>
        $$"""{"id": {{id}}, "age": {{age}}, "city": "{{city}}", "score": {{score.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""";

    [Fact]
    public async Task Scores_over_HTTP_equal_ctb_predict_s_for_the_same_rows_as_JSON_and_as_CSV()
    {
        var csv = "id,age,city,score\n" + string.Join("\n", SmallConfig.Rows(30).Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => l[..l.LastIndexOf(',')])) + "\n";
        var file = Path.Combine(_ws.Root, "batch.csv");
        File.WriteAllText(file, csv);
        var expected = Predictions(BatchPredictor.Run(_ws.Load(), new PredictOptions(file, Path.Combine(_ws.Root, "p.parquet"), ModelReference.Parse(null, "small-model")), _ws.Log).Output);

        var records = csv.Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToList();
        var json = "[" + string.Join(",", records.Select(f => Record(int.Parse(f[0]), int.Parse(f[1]), f[2], double.Parse(f[3], System.Globalization.CultureInfo.InvariantCulture)))) + "]";
        var (status, body) = await Post(json);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("small-model", body.GetProperty("model").GetString());
        Assert.Equal(1, body.GetProperty("version").GetInt32());
        var predictions = body.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(records.Count, predictions.Count);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(expected[records[i][0]].Score, predictions[i].GetProperty("score").GetDouble());
            Assert.Equal(expected[records[i][0]].Label, predictions[i].GetProperty("label").GetBoolean());
        }

        var (csvStatus, csvBody) = await Post(csv, "text/csv");
        Assert.Equal(HttpStatusCode.OK, csvStatus);
        Assert.Equal(predictions.Select(p => p.GetProperty("score").GetDouble()),
            csvBody.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("score").GetDouble()));

        var (oneStatus, one) = await Post(string.Join(",", json.TrimStart('[').Split("},{")[0]) + "}");
        Assert.Equal(HttpStatusCode.OK, oneStatus);
        Assert.Equal(expected[records[0][0]].Score, one.GetProperty("predictions")[0].GetProperty("score").GetDouble());
    }

    [Theory]
    [InlineData("[{\"id\": 1, \"age\": 30, \"city\": \"Oslo\", \"score\": 1}, {\"id\": 2, \"age\": 130, \"city\": \"Oslo\", \"score\": 1}]", 1, "age", "above the maximum 120")]
    [InlineData("[{\"id\": 1, \"age\": 30, \"city\": \"Paris\", \"score\": 1}]", 0, "city", "'Paris' is not an allowed value")]
    [InlineData("[{\"id\": 1, \"age\": \"old\", \"city\": \"Oslo\", \"score\": 1}]", 0, "age", "not a valid int")]
    [InlineData("[{\"age\": 30, \"city\": \"Oslo\", \"score\": 1}]", 0, "id", "missing value in a non-nullable column")]
    [InlineData("[{\"id\": 1, \"age\": 30, \"city\": \"Oslo\", \"scroe\": 1}]", 0, "scroe", "unknown field 'scroe'")]
    [InlineData("[{\"id\": 1, \"age\": [30], \"city\": \"Oslo\", \"score\": 1}]", 0, "age", "expected a string, number, boolean or null")]
    public async Task A_record_that_breaks_the_contract_gets_a_400_naming_the_record_the_field_and_the_reason(string body, int record, string field, string reason)
    {
        var (status, error) = await Post(body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(record, error.GetProperty("record").GetInt32());
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.Contains(reason, error.GetProperty("error").GetString());
        Assert.Contains($"record {record}", error.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("{\"id\": 1,", "application/json", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("42", "application/json", HttpStatusCode.BadRequest, "array of records or one record")]
    [InlineData("[]", "application/json", HttpStatusCode.BadRequest, "no records")]
    [InlineData("id,age,city,colour\n1,30,Oslo,red\n", "text/csv", HttpStatusCode.BadRequest, "unknown field 'colour'")]
    [InlineData("id=1", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType, "application/json")]
    public async Task Bad_bodies_get_their_status_and_a_message(string body, string contentType, HttpStatusCode expected, string message)
    {
        var (status, error) = await Post(body, contentType);
        Assert.Equal(expected, status);
        Assert.Contains(message, error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413_with_or_without_a_content_length()
    {
        var big = "[" + string.Join(",", Enumerable.Range(1, 2000).Select(i => Record(i, 30, "Oslo", 1))) + "]"; // > 64 KiB
        // Expect: 100-continue, as a client sending large bodies should: the server refuses before the body is sent,
        // so the client never writes into a connection the server has closed.
        using var sized = new HttpRequestMessage(HttpMethod.Post, Url("/predict")) { Content = new StringContent(big, Encoding.UTF8, "application/json") };
        sized.Headers.ExpectContinue = true;
        using var refused = await _http.SendAsync(sized);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("larger than the limit of 65,536 bytes", await refused.Content.ReadAsStringAsync());

        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("/predict")) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.ExpectContinue = true;
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Health_model_and_metrics_describe_the_verified_model_being_served()
    {
        var health = await _http.GetFromJsonAsync<JsonElement>(Url("/health"));
        Assert.Equal("ready", health.GetProperty("status").GetString());

        var model = await _http.GetFromJsonAsync<JsonElement>(Url("/model"));
        var record = ModelRegistry.Open(_ws.Load().RegistryRoot).GetVersion("small-model", 1);
        Assert.Equal(1, model.GetProperty("version").GetInt32());
        Assert.Equal(record.Trainer, model.GetProperty("trainer").GetString());
        Assert.Equal(record.Artifacts.Single(a => a.Name == "model.zip").Sha256, model.GetProperty("sha256").GetString());
        Assert.Equal(record.InputSignature.Select(c => c.Name), model.GetProperty("inputSignature").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.True(model.GetProperty("metrics").EnumerateObject().Any());

        await Post("[" + Record(1, 30, "Oslo", 1) + "]");
        await Post("[{\"nope\": 1}]");
        var metrics = await _http.GetStringAsync(Url("/metrics"));
        Assert.Contains("ctb_requests_total{path=\"/predict\",status=\"200\"} 1", metrics);
        Assert.Contains("ctb_requests_total{path=\"/predict\",status=\"400\"} 1", metrics);
        Assert.Contains("ctb_request_errors_total 1", metrics);
        Assert.Contains("ctb_predict_duration_seconds_count 2", metrics);
        Assert.Contains("ctb_predicted_rows_total 1", metrics);
        Assert.Contains("ctb_model_version{model=\"small-model\"", metrics);
        Assert.Contains("# TYPE ctb_predict_duration_seconds histogram", metrics);
    }

    [Fact]
    public async Task Concurrent_requests_batched_together_each_get_their_own_scores_and_a_bad_record_fails_only_its_request()
    {
        // Requests of 1 to 3 records; every fifth has a record that breaks the contract (age 130), at a varying index.
        string Body(int n) => "[" + string.Join(",", Enumerable.Range(0, 1 + n % 3).Select(k =>
            Record(n * 10 + k, n % 5 == 0 && k == n % 3 ? 130 : 20 + (n + k) % 50, new[] { "Oslo", "Lima", "Pune" }[(n + k) % 3], (n * 7 + k) % 10 / 2.0))) + "]";
        var expected = new Dictionary<int, JsonElement>();
        for (var n = 0; n < 60; n++) expected[n] = (await Post(Body(n))).Body; // one at a time: nothing to batch with

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 60).Select(n => Task.Run(() => Post(Body(n)))));
        for (var n = 0; n < 60; n++)
        {
            var (status, body) = concurrent[n];
            Assert.Equal(n % 5 == 0 ? HttpStatusCode.BadRequest : HttpStatusCode.OK, status);
            if (n % 5 == 0) Assert.Equal(n % 3, body.GetProperty("record").GetInt32());
            Assert.Equal(expected[n].ToString(), body.ToString());
        }
    }

    [Fact]
    public async Task A_features_SQL_that_drops_a_record_fails_only_the_requests_with_such_a_record_when_requests_are_batched()
    {
        _ws.WithFeaturesSql(SmallConfig.FeaturesSql + " WHERE age < 90");
        await using var server = await Start();
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(n => Task.Run(async () =>
        {
            using var response = await _http.PostAsync(new Uri(server.Address, "/predict"),
                new StringContent("[" + Record(n, n % 4 == 0 ? 95 : 30, "Oslo", 1) + "]", Encoding.UTF8, "application/json"));
            return (n, response.StatusCode, Text: await response.Content.ReadAsStringAsync());
        })));
        foreach (var (n, status, text) in results)
        {
            Assert.True((n % 4 == 0 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK) == status, $"request {n}: {(int)status} {text}");
            if (n % 4 == 0) Assert.Contains("one feature row per record", text);
        }
    }

    [Fact]
    public async Task A_promotion_while_serving_swaps_the_version_with_no_failed_request()
    {
        var body = "[" + Record(7, 41, "Lima", 4.2) + "]";
        var versions = new List<int>();
        var failures = new List<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // bounded: ends by itself
        var client = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await _http.PostAsync(Url("/predict"), new StringContent(body, Encoding.UTF8, "application/json"));
                var text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode) { lock (failures) failures.Add($"{(int)response.StatusCode} {text}"); continue; }
                var v = JsonDocument.Parse(text).RootElement.GetProperty("version").GetInt32();
                lock (versions) versions.Add(v);
                if (v == 2 && versions.Count(x => x == 2) >= 20) stop.Cancel();
            }
        });
        while (true) { lock (versions) if (versions.Count >= 20) break; await Task.Delay(10); }
        Assert.Equal(2, PromoteCopyOfChampion(_ws, "retrained"));
        await client;

        Assert.Empty(failures);
        Assert.Equal(2, _server.Current.Version);
        Assert.Contains(1, versions);
        Assert.True(versions.Count(v => v == 2) >= 20, "the server did not swap to v2 within 30 s");
        Assert.Equal(versions.Order(), versions); // never back to the old version once swapped
        Assert.Contains(_ws.Log.Lines, l => l.Contains("now serving small-model v2") && l.Contains("was v1"));
    }

    [Fact]
    public async Task A_rollback_moves_the_server_back_and_a_pinned_version_is_not_followed()
    {
        await using var pinned = await Start("small-model:1");
        Assert.Equal(2, PromoteCopyOfChampion(_ws, "retrained"));
        _server.PollNow(); // the 100 ms timer may have swapped already
        Assert.False(pinned.PollNow());
        Assert.Equal(2, _server.Current.Version);
        ModelRegistry.Open(_ws.Load().RegistryRoot).Rollback("small-model", null, "bad in production", commit: false);
        _server.PollNow();
        Assert.Equal(1, _server.Current.Version);
        Assert.Equal(1, pinned.Current.Version);
        var (_, body) = await Post("[" + Record(1, 30, "Oslo", 1) + "]");
        Assert.Equal(1, body.GetProperty("version").GetInt32());
        Assert.Contains("ctb_model_swaps_total 2", await _http.GetStringAsync(Url("/metrics")));
    }

    [Fact]
    public async Task A_new_version_that_fails_verification_is_not_loaded_and_the_old_one_keeps_serving()
    {
        var w = _ws.Load();
        var registry = ModelRegistry.Open(w.RegistryRoot);
        var v1 = registry.GetVersion("small-model", 1);
        var folder = Path.Combine(w.ModelsDir, "small-model");
        var v2 = registry.RegisterVersion("small-model", new ModelVersionDraft(v1.SourceRunId, v1.Trainer, v1.TrainerParams,
            new Dictionary<string, double> { ["x"] = 1 }, v1.DataVersions, v1.InputSignature,
            v1.Artifacts.Select(a => new DraftArtifact(a.Name, Path.Combine(folder, a.Path))).ToList()));
        File.AppendAllText(Path.Combine(folder, "versions", $"v{v2}", "model.zip"), "tampered");
        registry.SetAlias("small-model", ModelRegistry.ChampionAlias, v2, "test");

        Assert.False(_server.PollNow());
        Assert.False(_server.PollNow());
        Assert.Equal(1, _server.Current.Version);
        var (status, body) = await Post("[" + Record(1, 30, "Oslo", 1) + "]");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("version").GetInt32());
        var errors = _ws.Log.Lines.Where(l => l.Contains($"moved to v{v2}, which was not loaded")).ToList();
        Assert.Single(errors); // logged once, not once per poll
        Assert.Contains("sha256", errors[0]);
        Assert.Contains("Still serving small-model v1", errors[0]);
        Assert.Contains("ctb_model_load_failures_total 1", await _http.GetStringAsync(Url("/metrics")));
    }

    [Fact]
    public async Task The_server_refuses_to_start_on_a_tampered_model()
    {
        var model = Directory.GetFiles(Path.Combine(_ws.Root, "models"), "model.zip", SearchOption.AllDirectories).Single();
        File.AppendAllText(model, "x");
        var ex = await Assert.ThrowsAsync<RegistryIntegrityException>(() => Start());
        Assert.Contains("does not match the registry record", ex.Message);
    }
}
