using System.Threading.Channels;
using CtBuild.Training;

namespace CtBuild.Serving;

/// <summary>What became of one request's records: their model inputs, in order, or the first rule one broke.</summary>
public sealed record FeaturesResult(List<ModelInputRow>? Rows, RecordViolation? Violation);

/// <summary>
/// Turns requests' records into model inputs on a few DuckDB sessions (one per core), combining the requests that
/// wait meanwhile into one load and one features query: a query costs about the same CPU for one row as for a hundred,
/// so under load the cost per request falls instead of requests queueing behind each other. No request waits for a
/// batch to fill: a worker takes whatever is waiting when it is free. Records the <see cref="ContractPrecheck"/> cannot
/// pass are judged in DuckDB alone, so a bad record fails its own request only.
/// </summary>
public sealed class RecordBatcher : IAsyncDisposable
{
    /// <summary>A batch takes waiting requests up to this many records (a larger request is a batch of its own).</summary>
    public const int MaxBatchRecords = 4096;

    sealed record Pending(IReadOnlyList<string?[]> Records, FeatureSignature Signature, TaskCompletionSource<FeaturesResult> Done);

    readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false });
    readonly Task[] _workers;
    long _queries;
    long _requests;

    /// <summary>Features queries run, and the requests they served (their ratio is how much batching saved).</summary>
    public (long Queries, long Requests) Counts => (Interlocked.Read(ref _queries), Interlocked.Read(ref _requests));

    public RecordBatcher(PredictionContract contract, int workers)
    {
        // Sessions open here, so a contract or features SQL that DuckDB rejects fails the server's start.
        var sessions = Enumerable.Range(0, workers).Select(_ => new RecordSession(contract)).ToList();
        _workers = sessions.Select(s => Task.Factory.StartNew(() => Work(s), TaskCreationOptions.LongRunning)).ToArray();
    }

    /// <summary>The model inputs of <paramref name="records"/> for a model with <paramref name="signature"/>.</summary>
    public Task<FeaturesResult> FeaturesAsync(IReadOnlyList<string?[]> records, FeatureSignature signature)
    {
        var pending = new Pending(records, signature, new TaskCompletionSource<FeaturesResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(pending), this);
        return pending.Done.Task;
    }

    void Work(RecordSession session)
    {
        using (session)
        {
            var batch = new List<Pending>();
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                var records = 0;
                while (records < MaxBatchRecords && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                    records += next.Records.Count;
                }
                foreach (var group in batch.GroupBy(p => p.Signature))
                    Run(session, group.ToList());
            }
        }
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

    /// <summary>Up to this many waiting single-record requests are answered one by one.</summary>
    public const int MaxAlone = 4;

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
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
    }
}
