using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Serving;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Cli;

/// <summary><c>ctb predict</c> and <c>ctb serve</c> as real processes on a trained workspace.</summary>
[Collection(TrainedTemplateGroup.Name)]
public sealed class ServeCommandsTests(TrainedTemplate template) : IDisposable
{
    readonly TempWorkspace _ws = template.Copy();

    public void Dispose() => _ws.Dispose();

    string[] Config => ["--config", Path.Combine(_ws.Root, "ctbuild.json")];

    [Fact]
    public void Predict_prints_json_and_exits_0_2_or_1_as_the_contract_says()
    {
        var ok = CtbProcess.Run(_ws.Root, ["predict", "--input", "features", "--output", "out/p.csv", "--json", .. Config]);
        Assert.True(ok.ExitCode == 0, ok.Output);
        var json = JsonDocument.Parse(ok.StdOut).RootElement;
        Assert.Equal(json.GetProperty("inputRows").GetInt64(), json.GetProperty("scored").GetInt64() + json.GetProperty("rejected").GetInt64());
        Assert.True(json.GetProperty("rowsPerSecond").GetDouble() > 0);
        Assert.True(File.Exists(Path.Combine(_ws.Root, "out", "p.csv")));

        var usage = CtbProcess.Run(_ws.Root, ["predict", "--input", "features", .. Config]);
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("--output <FILE> is required", usage.Output);

        var model = Directory.GetFiles(Path.Combine(_ws.Root, "models"), "model.zip", SearchOption.AllDirectories).Single();
        File.AppendAllText(model, "x");
        var tampered = CtbProcess.Run(_ws.Root, ["predict", "--input", "features", "--output", "q.csv", .. Config]);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("does not match the registry record", tampered.Output);
    }

    /// <summary>A request body sent in two halves: the test sends SIGTERM between them.</summary>
    sealed class TwoPartContent(byte[] body, TaskCompletionSource firstHalfSent, Task sendRest) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await stream.FlushAsync();
            firstHalfSent.SetResult();
            await sendRest;
            await stream.WriteAsync(body.AsMemory(body.Length / 2));
        }

        protected override bool TryComputeLength(out long length) { length = body.Length; return true; }
    }

    [Fact]
    public async Task Serve_finishes_the_request_in_flight_on_SIGTERM_then_exits_0()
    {
        using var server = CtbProcess.Start(_ws.Root, ["serve", "--port", "0", "--json", .. Config]);
        Assert.True(server.WaitForOutput("\"address\"", TimeSpan.FromSeconds(60)), server.OutputSoFar);
        var address = JsonDocument.Parse(server.OutputSoFar.Split('\n').First(l => l.Contains("\"address\""))).RootElement.GetProperty("address").GetString()!;
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);

        var body = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(1, 50).Select(i => $$"""{"id": {{i}}, "age": 40, "city": "Pune", "score": 3.5}""")) + "]");
        var firstHalf = new TaskCompletionSource();
        var rest = new TaskCompletionSource();
        var content = new TwoPartContent(body, firstHalf, rest.Task);
        content.Headers.ContentType = new("application/json");
        var response = http.PostAsync("/predict", content);
        await firstHalf.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Process.Start("kill", ["-TERM", server.Id.ToString()])!.WaitForExit();
        await Task.Delay(500);          // the server is stopping with the request half received
        Assert.False(server.HasExited, "the server exited with a request in flight");
        rest.SetResult();

        using var answer = await response.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var predictions = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions");
        Assert.Equal(50, predictions.GetArrayLength());
        var exit = server.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(exit.ExitCode == 0, exit.Output);
        Assert.Contains("requests in flight were finished", exit.Output);
    }
}
