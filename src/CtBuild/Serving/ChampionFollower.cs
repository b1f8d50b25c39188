using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Registry;

namespace CtBuild.Serving;

/// <summary>
/// Keeps the served model on the version its alias points to. Every poll reads the registry (a promotion
/// commit pulled into the workspace, or a rollback, moves the alias); a new version is verified and loaded off
/// the request path and swapped in as one reference, so requests in flight finish with the model they began
/// with. A version that fails is not served: the old one stays, and the error is logged once per version.
/// </summary>
public sealed class ChampionFollower
{
    readonly Workspace _ws;
    readonly ModelReference _reference;
    readonly Func<ServedModel, string?> _accept;
    readonly IPipelineLog _log;
    readonly ServerMetrics _metrics;
    readonly object _polling = new(); // the timer and PollNow never check at the same time
    ServedModel _current;
    string? _lastFailure;

    /// <param name="accept">Checks a loaded model before it is served; returns why it cannot be, or null.</param>
    public ChampionFollower(Workspace ws, ModelReference reference, ServedModel initial, Func<ServedModel, string?> accept, IPipelineLog log, ServerMetrics metrics)
    {
        _ws = ws;
        _reference = reference;
        _current = initial;
        _accept = accept;
        _log = log;
        _metrics = metrics;
    }

    /// <summary>The model to score the next request with.</summary>
    public ServedModel Current => Volatile.Read(ref _current);

    /// <summary>Checks the alias once and swaps when it moved to a version that verifies. Returns true on a swap.</summary>
    public bool Poll()
    {
        if (!_reference.FollowsAlias) return false;
        lock (_polling) return PollOnce();
    }

    bool PollOnce()
    {
        int version;
        try { version = ServedModel.ResolveVersion(ModelRegistry.Open(_ws.RegistryRoot), _reference); }
        catch (CtBuildException e) { Fail($"cannot resolve {_reference}: {e.Message}"); return false; }
        var current = Current;
        if (version == current.Version) { _lastFailure = null; return false; }
        ServedModel next;
        try { next = ServedModel.Load(_ws, _reference.Name, version); }
        catch (Exception e) when (e is CtBuildException or IOException or InvalidDataException or InvalidOperationException or FormatException)
        {
            Fail($"{_reference} moved to v{version}, which was not loaded: {e.Message} Still serving {current}.");
            return false;
        }
        if (_accept(next) is { } reason) { Fail($"{_reference} moved to v{version}, which was not loaded: {reason} Still serving {current}."); return false; }
        Volatile.Write(ref _current, next);
        _lastFailure = null;
        _metrics.Swapped();
        _log.Info($"serve: {_reference} moved: now serving {next} (sha256 {next.Sha256[..12]}… verified), was v{current.Version}");
        return true;
    }

    /// <summary>Polls every <paramref name="interval"/> until <paramref name="stop"/>.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                // Whatever goes wrong in one poll, the server keeps serving and the next poll tries again.
                try { Poll(); }
                catch (Exception e) { Fail($"checking {_reference} failed: {e.GetType().Name}: {e.Message} Still serving {Current}."); }
            }
        }
        catch (OperationCanceledException) { }
    }

    void Fail(string message)
    {
        if (message == _lastFailure) return; // once per distinct failure, not once per poll
        _lastFailure = message;
        _metrics.LoadFailed();
        _log.Warning("error: " + message);
    }
}
