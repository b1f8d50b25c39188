using System.Collections.Concurrent;
using CtBuild.Training;

namespace CtBuild.Serving;

/// <summary>What became of one request's records: their model inputs, in order, or the first rule one broke.</summary>
public sealed record FeaturesResult(List<ModelInputRow>? Rows, RecordViolation? Violation);

/// <summary>
/// Turns requests' records into model inputs on a few DuckDB sessions (one per core). A request's own thread does the
/// work when a session is free, so an answer waits for no other thread to wake. When every session is busy, the request
/// waits in a queue, and a thread that frees a session takes everything waiting there, combining the requests into one
/// load and one features query: a loaded query costs about the same CPU for one row as for a hundred, so under load the
/// cost per request falls instead of requests queueing behind each other. No request waits for a batch to fill.
/// Records the <see cref="ContractPrecheck"/> cannot pass are judged in DuckDB alone, so a bad record fails its own
/// request only.
/// </summary>
public sealed class RecordBatcher : IAsyncDisposable
{
    /// <summary>A batch takes waiting requests up to this many records (a larger request is a batch of its own).</summary>
    public const int MaxBatchRecords = 4096;

    /// <summary>Up to this many waiting single-record requests are answered one by one.</summary>
    public const int MaxAlone = 4;

    sealed record Pending(IReadOnlyList<string?[]> Records, FeatureSignature Signature, TaskCompletionSource<FeaturesResult> Done);

    readonly ConcurrentQueue<Pending> _queue = new();
    readonly List<RecordSession> _sessions;
    readonly Stack<RecordSession> _free;
    readonly object _gate = new(); // guards _free and _closed, and orders an enqueue against closing
    bool _closed;
    long _queries;
    long _requests;

    /// <summary>Features queries run, and the requests they served (their ratio is how much batching saved).</summary>
    public (long Queries, long Requests) Counts => (Interlocked.Read(ref _queries), Interlocked.Read(ref _requests));

    public RecordBatcher(PredictionContract contract, int sessions)
    {
        // Sessions open here, so a contract or features SQL that DuckDB rejects fails the server's start.
        _sessions = Enumerable.Range(0, sessions).Select(_ => new RecordSession(contract)).ToList();
        _free = new Stack<RecordSession>(_sessions);
    }

    /// <summary>The model inputs of <paramref name="records"/> for a model with <paramref name="signature"/>.</summary>
    public Task<FeaturesResult> FeaturesAsync(IReadOnlyList<string?[]> records, FeatureSignature signature)
    {
        var pending = new Pending(records, signature, new TaskCompletionSource<FeaturesResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            _queue.Enqueue(pending);
        }
        Drain(pending.Done.Task);
        return pending.Done.Task;
    }

    /// <summary>
    /// Runs what is waiting on a free session, on this thread, until <paramref name="answered"/> completes (or, without
    /// it, until nothing waits). Whoever frees a session looks at the queue again, so no request is left behind: what
    /// still waits when this thread has its own answer goes to a thread-pool thread.
    /// </summary>
    void Drain(Task? answered)
    {
        while (answered is not { IsCompleted: true } && !_queue.IsEmpty && TryTakeSession(out var session))
        {
            try { RunWaiting(session); }
            finally { lock (_gate) _free.Push(session); }
        }
        if (answered is { IsCompleted: true } && !_queue.IsEmpty) ThreadPool.UnsafeQueueUserWorkItem(static b => b.Drain(null), this, preferLocal: false);
    }

    bool TryTakeSession(out RecordSession session)
    {
        lock (_gate) return _free.TryPop(out session!);
    }

    void RunWaiting(RecordSession session)
    {
        var batch = new List<Pending>();
        var records = 0;
        while (records < MaxBatchRecords && _queue.TryDequeue(out var next))
        {
            batch.Add(next);
            records += next.Records.Count;
        }
        foreach (var group in batch.GroupBy(p => p.Signature))
            Run(session, group.ToList());
    }
    void Run(RecordSession session, List<Pending> group)
    {
        var together = new List<Pending>(group.Count);
        foreach (var pending in group)
        {
            if (session.SurelyPass(pending.Records)) together.Add(pending);
            else Complete(session, [pending], judge: true);
        }
        // A single record is cheapest alone (RecordSession.FeaturesOfOne); loading records costs as much as a few such
        // statements, so only when more single records wait than that do they share one load and query.
        if (together.Count(p => p.Records.Count == 1) <= MaxAlone)
        {
            foreach (var single in together.Where(p => p.Records.Count == 1)) CompleteAlone(session, single);
            together.RemoveAll(p => p.Records.Count == 1);
        }
        if (together.Count > 0) Complete(session, together, judge: false);
    }

    void CompleteAlone(RecordSession session, Pending pending)
    {
        try
        {
            var row = session.FeaturesOfOne(pending.Records[0], pending.Signature);
            Interlocked.Increment(ref _queries);
            Interlocked.Increment(ref _requests);
            pending.Done.SetResult(new FeaturesResult([row], null));
        }
        catch (Exception e)
        {
            pending.Done.TrySetException(e);
        }
    }

    void Complete(RecordSession session, List<Pending> requests, bool judge)
    {
        try
        {
            var records = requests.Count == 1 ? requests[0].Records : requests.SelectMany(p => p.Records).ToList();
            if (!judge) session.Append(records);
            else if (session.LoadAndJudgeInDuckDb(records) is { } violation)
            {
                requests[0].Done.SetResult(new FeaturesResult(null, violation)); // judged alone, so the violation is this request's
                return;
            }
            var rows = session.Features(requests[0].Signature, records.Count);
            Interlocked.Increment(ref _queries);
            Interlocked.Add(ref _requests, requests.Count);
            var from = 0;
            foreach (var pending in requests)
            {
                pending.Done.SetResult(new FeaturesResult(rows.GetRange(from, pending.Records.Count), null));
                from += pending.Records.Count;
            }
        }
        catch (CtBuildException) when (requests.Count > 1)
        {
            // e.g. a features SQL that drops some records' rows: only the requests with such records fail, as they would alone.
            foreach (var pending in requests) Complete(session, [pending], judge);
        }
        catch (Exception e)
        {
            foreach (var pending in requests) pending.Done.TrySetException(e);
        }
    }

    /// <summary>Finishes the requests already queued, then closes the sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate) _closed = true;
        while (true)
        {
            lock (_gate)
                if (_free.Count == _sessions.Count && _queue.IsEmpty) break;
            Drain(null);
            await Task.Delay(10);
        }
        foreach (var session in _sessions) session.Dispose();
    }
}
