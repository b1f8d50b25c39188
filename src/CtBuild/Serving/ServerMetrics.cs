using System.Globalization;
using System.Text;

namespace CtBuild.Serving;

/// <summary>
/// The server's counters in Prometheus' text format (<c>GET /metrics</c>): requests by path and status,
/// a latency histogram of <c>/predict</c>, rows scored, model swaps and failed loads, and the version served.
/// </summary>
public sealed class ServerMetrics
{
    static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    readonly Dictionary<(string Path, int Status), long> _requests = [];
    readonly long[] _bucketCounts = new long[Buckets.Length];
    readonly object _gate = new();
    double _latencySum;
    long _latencyCount;
    long _rows;
    long _swaps;
    long _loadFailures;
    long _inFlight;

    public long InFlight => Interlocked.Read(ref _inFlight);

    public void Started() => Interlocked.Increment(ref _inFlight);

    public void Finished(string path, int status, double seconds, int rows)
    {
        Interlocked.Decrement(ref _inFlight);
        lock (_gate)
        {
            _requests[(path, status)] = _requests.GetValueOrDefault((path, status)) + 1;
            if (path != "/predict") return;
            _latencySum += seconds;
            _latencyCount++;
            for (var i = 0; i < Buckets.Length; i++) if (seconds <= Buckets[i]) _bucketCounts[i]++;
            _rows += rows;
        }
    }

    public void Swapped() => Interlocked.Increment(ref _swaps);

    public void LoadFailed() => Interlocked.Increment(ref _loadFailures);

    public string Render(ServedModel model)
    {
        var text = new StringBuilder();
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        lock (_gate)
        {
            text.Append("# HELP ctb_requests_total HTTP requests by path and status code.\n# TYPE ctb_requests_total counter\n");
            foreach (var ((path, status), n) in _requests.OrderBy(r => r.Key.Path, StringComparer.Ordinal).ThenBy(r => r.Key.Status))
                text.Append(CultureInfo.InvariantCulture, $"ctb_requests_total{{path=\"{path}\",status=\"{status}\"}} {n}\n");
            text.Append("# HELP ctb_request_errors_total Requests to /predict answered with a 4xx or 5xx status.\n# TYPE ctb_request_errors_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"ctb_request_errors_total {_requests.Where(r => r.Key.Path == "/predict" && r.Key.Status >= 400).Sum(r => r.Value)}\n");
            text.Append("# HELP ctb_predict_duration_seconds Time to answer POST /predict.\n# TYPE ctb_predict_duration_seconds histogram\n");
            for (var i = 0; i < Buckets.Length; i++)
                text.Append(CultureInfo.InvariantCulture, $"ctb_predict_duration_seconds_bucket{{le=\"{F(Buckets[i])}\"}} {_bucketCounts[i]}\n");
            text.Append(CultureInfo.InvariantCulture, $"ctb_predict_duration_seconds_bucket{{le=\"+Inf\"}} {_latencyCount}\n");
            text.Append(CultureInfo.InvariantCulture, $"ctb_predict_duration_seconds_sum {F(_latencySum)}\nctb_predict_duration_seconds_count {_latencyCount}\n");
            text.Append("# HELP ctb_predicted_rows_total Records scored.\n# TYPE ctb_predicted_rows_total counter\n");
            text.Append(CultureInfo.InvariantCulture, $"ctb_predicted_rows_total {_rows}\n");
        }
        text.Append("# HELP ctb_requests_in_flight Requests being answered.\n# TYPE ctb_requests_in_flight gauge\n");
        text.Append(CultureInfo.InvariantCulture, $"ctb_requests_in_flight {InFlight}\n");
        text.Append("# HELP ctb_model_swaps_total Times a new version of the followed alias was verified and swapped in.\n# TYPE ctb_model_swaps_total counter\n");
        text.Append(CultureInfo.InvariantCulture, $"ctb_model_swaps_total {Interlocked.Read(ref _swaps)}\n");
        text.Append("# HELP ctb_model_load_failures_total Versions that failed verification or loading and were not served.\n# TYPE ctb_model_load_failures_total counter\n");
        text.Append(CultureInfo.InvariantCulture, $"ctb_model_load_failures_total {Interlocked.Read(ref _loadFailures)}\n");
        text.Append("# HELP ctb_model_version The registered version being served.\n# TYPE ctb_model_version gauge\n");
        text.Append(CultureInfo.InvariantCulture, $"ctb_model_version{{model=\"{model.Name}\",sha256=\"{model.Sha256}\"}} {model.Version}\n");
        return text.ToString();
    }
}
