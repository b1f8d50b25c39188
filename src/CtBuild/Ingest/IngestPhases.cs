using System.Diagnostics;
using System.Globalization;

namespace CtBuild.Ingest;

/// <summary>
/// Wall time Ingest spent in each of its phases, summed over files, so a slow ingest says where its time went
/// (the benchmark prints it beside each figure). Phases on the preparing thread overlap the others.
/// </summary>
public sealed class IngestPhases
{
    readonly Dictionary<string, double> _seconds = [];
    readonly List<string> _order = [];

    public T Time<T>(string phase, Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        try { return work(); }
        finally { Add(phase, clock.Elapsed.TotalSeconds); }
    }

    public void Time(string phase, Action work) => Time(phase, () => { work(); return 0; });

    void Add(string phase, double seconds)
    {
        lock (_seconds)
        {
            if (!_seconds.ContainsKey(phase)) _order.Add(phase);
            _seconds[phase] = _seconds.GetValueOrDefault(phase) + seconds;
        }
    }

    /// <summary>"capture 0.21 s, numbered copy 1.10 s, …" in the order the phases first ran.</summary>
    public override string ToString()
    {
        lock (_seconds)
            return string.Join(", ", _order.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p} {_seconds[p]:0.00} s")));
    }
}
