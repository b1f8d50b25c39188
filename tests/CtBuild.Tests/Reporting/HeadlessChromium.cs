using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtBuild.Tests.Reporting;

/// <summary>
/// Opens pages in Debian's headless Chromium and drives it over the DevTools protocol, to check what
/// a person would see: scripts ran without errors, nothing was fetched from the network, charts drew.
/// Each instance has its own browser process and profile folder, so tests can run in parallel.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    static readonly string[] ExecutableNames = ["chromium", "chromium-browser", "google-chrome"];

    readonly Process process;
    readonly string profile;
    readonly ClientWebSocket socket = new();
    readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> pending = new();
    readonly ConcurrentQueue<JsonObject> events = new();
    readonly CancellationTokenSource stop = new();
    Task? receiving;
    int nextId;

    HeadlessChromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    /// <summary>The browser named by CTB_CHROMIUM, else a Chromium or Chrome on PATH, or null.</summary>
    public static string? FindExecutable() =>
        Environment.GetEnvironmentVariable("CTB_CHROMIUM") is { Length: > 0 } named && File.Exists(named) ? named :
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .SelectMany(dir => ExecutableNames.Select(name => Path.Combine(dir, name)))
        .FirstOrDefault(File.Exists);

    /// <summary>Starts a browser. Fails (never skips) when Chromium is missing: CI installs it.</summary>
    public static async Task<HeadlessChromium> StartAsync(TimeSpan? timeout = null)
    {
        var executable = FindExecutable() ?? throw new InvalidOperationException(
            "Chromium is not on PATH, so the browser test cannot run. Install it with `apt-get install -y chromium` (the CI script does).");
        var profile = Directory.CreateTempSubdirectory("ctb-chromium-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-features=Translate,OptimizationHints,MediaRouter", "--hide-scrollbars", "--mute-audio",
            "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank",
        }) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            await browser.ConnectAsync(timeout ?? TimeSpan.FromSeconds(30));
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    async Task ConnectAsync(TimeSpan timeout)
    {
        // Chromium writes the port it picked to DevToolsActivePort in the profile folder.
        var portFile = Path.Combine(profile, "DevToolsActivePort");
        var deadline = DateTime.UtcNow + timeout;
        int port = 0;
        while (port == 0)
        {
            if (process.HasExited) throw new InvalidOperationException($"Chromium exited early with code {process.ExitCode}.");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Chromium did not open its DevTools port within {timeout.TotalSeconds:0} s.");
            try
            {
                if (File.Exists(portFile) && int.TryParse(File.ReadLines(portFile).FirstOrDefault(), out var p)) port = p;
            }
            catch (IOException) { } // still being written
            if (port == 0) await Task.Delay(50);
        }
        using var http = new HttpClient { Timeout = timeout };
        JsonArray? targets = null;
        while (targets is null || !targets.Any(t => (string?)t!["type"] == "page"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Chromium has no page target to drive.");
            try { targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray(); }
            catch (HttpRequestException) { await Task.Delay(50); }
        }
        var page = targets.First(t => (string?)t!["type"] == "page")!;
        await socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), stop.Token);
        receiving = Task.Run(ReceiveAsync);
        foreach (var domain in new[] { "Runtime", "Log", "Network", "Page" }) await SendAsync($"{domain}.enable");
    }

    /// <summary>
    /// Opens <paramref name="file"/>, waits for the load event and then until <paramref name="readyExpression"/>
    /// (JavaScript) is true or <paramref name="timeout"/> passes, and reports what happened.
    /// </summary>
    public async Task<PageVisit> OpenAsync(string file, string readyExpression = "true", TimeSpan? timeout = null, bool darkScheme = false)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        events.Clear();
        await SendAsync("Emulation.setEmulatedMedia", new JsonObject
        {
            ["features"] = new JsonArray(new JsonObject { ["name"] = "prefers-color-scheme", ["value"] = darkScheme ? "dark" : "light" }),
        });
        var url = new Uri(Path.GetFullPath(file)).AbsoluteUri;
        var watch = Stopwatch.StartNew();
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        while (!events.Any(e => (string?)e["method"] == "Page.loadEventFired"))
        {
            if (watch.Elapsed > limit) throw new TimeoutException($"{url} did not finish loading within {limit.TotalSeconds:0} s.");
            await Task.Delay(25);
        }
        var ready = false;
        while (!(ready = await EvaluateAsync<bool>($"!!({readyExpression})")) && watch.Elapsed < limit) await Task.Delay(50);
        var elapsed = watch.Elapsed;
        await Task.Delay(200); // let late console messages and requests arrive
        return new PageVisit(url, ready, elapsed, Errors(), RemoteRequests());
    }

    /// <summary>Evaluates a JavaScript expression in the page; the result is returned by value (JSON).</summary>
    public async Task<T> EvaluateAsync<T>(string expression)
    {
        var reply = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true,
        });
        if (reply["exceptionDetails"] is { } error) throw new InvalidOperationException($"Evaluating `{expression}` threw: {error.ToJsonString()}");
        var value = reply["result"]?["value"];
        return value is null ? default! : value.Deserialize<T>()!;
    }

    /// <summary>A PNG of the page in a viewport <paramref name="width"/> wide, from <paramref name="top"/> down <paramref name="height"/> pixels.</summary>
    public async Task<byte[]> ScreenshotAsync(int width = 1280, int height = 2400, int top = 0)
    {
        await SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject
        {
            ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false,
        });
        await Task.Delay(300); // charts with width "container" redraw on resize
        var reply = await SendAsync("Page.captureScreenshot", new JsonObject
        {
            ["format"] = "png", ["captureBeyondViewport"] = true,
            ["clip"] = new JsonObject { ["x"] = 0, ["y"] = top, ["width"] = width, ["height"] = height, ["scale"] = 1 },
        });
        return Convert.FromBase64String((string)reply["data"]!);
    }

    List<string> Errors() => events.Select(Error).OfType<string>().ToList();

    /// <summary>The error an event reports, or null when it reports none.</summary>
    static string? Error(JsonObject e)
    {
        var p = e["params"];
        var method = (string?)e["method"];
        if (method == "Runtime.exceptionThrown")
        {
            var details = p?["exceptionDetails"];
            return "exception: " + (details?["exception"]?["description"] ?? details?["text"]);
        }
        if (method == "Runtime.consoleAPICalled" && (string?)p?["type"] is "error" or "assert")
        {
            var args = p!["args"]!.AsArray().Select(Describe);
            return $"console.{p["type"]}: {string.Join(" ", args)}";
        }
        if (method == "Log.entryAdded" && (string?)p?["entry"]?["level"] == "error")
            return $"log: {p!["entry"]!["text"]} {p["entry"]!["url"]}";
        return null;
    }

    static string? Describe(JsonNode? arg) => (arg?["value"] ?? arg?["description"])?.ToString();

    List<string> RemoteRequests() => events
        .Where(e => (string?)e["method"] == "Network.requestWillBeSent")
        .Select(e => (string?)e["params"]?["request"]?["url"] ?? "")
        .Where(url => !(url.StartsWith("file:") || url.StartsWith("data:") || url.StartsWith("about:") || url.StartsWith("blob:")))
        .ToList();

    async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref nextId);
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, stop.Token);
        var done = await Task.WhenAny(reply.Task, Task.Delay(TimeSpan.FromSeconds(30), stop.Token));
        if (done != reply.Task) throw new TimeoutException($"Chromium did not answer {method} within 30 s.");
        var answer = await reply.Task;
        if (answer["error"] is { } error) throw new InvalidOperationException($"Chromium refused {method}: {error.ToJsonString()}");
        return answer["result"]?.AsObject() ?? new JsonObject();
    }

    async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        var message = new MemoryStream();
        try
        {
            while (socket.State == WebSocketState.Open && !stop.IsCancellationRequested)
            {
                var result = await socket.ReceiveAsync(buffer, stop.Token);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id && pending.TryRemove((int)id, out var reply)) reply.TrySetResult(json);
                else if (json["method"] is not null) events.Enqueue(json);
            }
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
        foreach (var reply in pending.Values) reply.TrySetException(new InvalidOperationException("The DevTools connection closed."));
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        try { if (receiving is not null) await receiving; } catch { /* closing anyway */ }
        socket.Dispose();
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); process.WaitForExit(5000); } catch (InvalidOperationException) { }
        process.Dispose();
        for (var attempt = 0; attempt < 5 && Directory.Exists(profile); attempt++)
        {
            try { Directory.Delete(profile, recursive: true); }
            catch (IOException) { await Task.Delay(100); } // Chromium's children may still hold files for a moment
        }
        stop.Dispose();
    }
}

/// <summary>What happened when a page was opened.</summary>
/// <param name="Ready">Whether the ready expression became true before the timeout.</param>
/// <param name="Elapsed">From navigation until ready (or the timeout).</param>
/// <param name="Errors">Uncaught exceptions, console.error calls and error log entries.</param>
/// <param name="RemoteRequests">Requests for anything other than file:, data:, about: or blob: URLs.</param>
public sealed record PageVisit(string Url, bool Ready, TimeSpan Elapsed, IReadOnlyList<string> Errors, IReadOnlyList<string> RemoteRequests);
