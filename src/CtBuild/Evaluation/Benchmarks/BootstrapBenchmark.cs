using System.Diagnostics;
using System.Globalization;

namespace CtBuild.Evaluation.Benchmarks;

/// <summary>Timings of the bootstrap comparison and DeLong's test on synthetic scores.</summary>
/// <param name="Rows">Test rows.</param>
/// <param name="Resamples">Resamples of the fast bootstrap.</param>
/// <param name="NaiveResamplesTimed">Resamples the naive bootstrap actually ran; its full time is extrapolated from them.</param>
/// <param name="Cores">Logical processors used by both bootstraps.</param>
/// <param name="Fast">Fast bootstrap, all resamples, including its one sort per model (wall clock).</param>
/// <param name="NaiveMeasured">Naive bootstrap on <paramref name="NaiveResamplesTimed"/> resamples (wall clock).</param>
/// <param name="DeLong">DeLong's test on all rows (wall clock).</param>
/// <param name="FastCpu">CPU time of the fast bootstrap, all threads: shows the cost when other processes share the cores.</param>
/// <param name="NaiveCpu">CPU time of the measured naive resamples.</param>
/// <param name="DeLongCpu">CPU time of DeLong's test.</param>
/// <param name="NaiveMatchesFast">Whether the naive ΔAUCs equal the fast ones for the resamples both ran.</param>
/// <param name="LoadAverage">The machine's 1-minute load average before the run (Linux), since shared cores skew wall times.</param>
public sealed record BootstrapBenchmarkResult(
    int Rows, int Resamples, int NaiveResamplesTimed, int Cores, string LoadAverage,
    TimeSpan Fast, TimeSpan NaiveMeasured, TimeSpan DeLong,
    TimeSpan FastCpu, TimeSpan NaiveCpu, TimeSpan DeLongCpu, bool NaiveMatchesFast)
{
    /// <summary>Naive time scaled linearly from the resamples it ran to <see cref="Resamples"/>.</summary>
    public TimeSpan NaiveExtrapolated => NaiveMeasured * ((double)Resamples / NaiveResamplesTimed);

    /// <summary>Naive CPU time scaled the same way.</summary>
    public TimeSpan NaiveCpuExtrapolated => NaiveCpu * ((double)Resamples / NaiveResamplesTimed);

    /// <summary>How many times faster the fast bootstrap is than the (extrapolated) naive one.</summary>
    public double Speedup => NaiveExtrapolated / Fast;

    /// <summary>A plain-text table of the figures.</summary>
    public string Format()
    {
        static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";
        var c = CultureInfo.InvariantCulture;
        return string.Join(Environment.NewLine,
            $"Bootstrap ΔAUC benchmark: {Rows.ToString("N0", c)} rows, {Resamples} paired resamples, {Cores} cores, load average {LoadAverage}",
            "",
            $"{"what",-52} {"wall",12} {"cpu",12}",
            $"{new string('-', 52)} {new string('-', 12)} {new string('-', 12)}",
            $"{"fast (sort once, weighted pass per resample)",-52} {Seconds(Fast),12} {Seconds(FastCpu),12}",
            $"{$"naive (re-sort), measured on {NaiveResamplesTimed} resamples",-52} {Seconds(NaiveMeasured),12} {Seconds(NaiveCpu),12}",
            $"{$"naive, extrapolated to {Resamples} resamples",-52} {Seconds(NaiveExtrapolated),12} {Seconds(NaiveCpuExtrapolated),12}",
            $"{"speed-up (naive extrapolated / fast)",-52} {Speedup.ToString("0.0", c) + "x",12} {(NaiveCpuExtrapolated / FastCpu).ToString("0.0", c) + "x",12}",
            $"{"DeLong test, all rows",-52} {Seconds(DeLong),12} {Seconds(DeLongCpu),12}",
            "",
            $"naive ΔAUCs equal fast ΔAUCs on the shared resamples: {(NaiveMatchesFast ? "yes" : "NO")}");
    }
}

/// <summary>
/// Times the fast and naive bootstraps and DeLong's test. Run it in Release, e.g. from a file-based app:
/// <c>#:project path/to/src/CtBuild</c> then
/// <c>Console.WriteLine(CtBuild.Evaluation.Benchmarks.BootstrapBenchmark.Run().Format());</c>
/// and <c>dotnet run -c Release bench.cs</c>.
/// </summary>
public static class BootstrapBenchmark
{
    /// <summary>Generates <paramref name="n"/> rows of float-precision scores (so ties occur, as with ML.NET) and times.</summary>
    public static BootstrapBenchmarkResult Run(int n = 1_000_000, int resamples = 1000, int naiveResamples = 20, ulong seed = 7)
    {
        naiveResamples = Math.Clamp(naiveResamples, 1, resamples);
        string loadAverage = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        var (labels, candidate, champion) = SyntheticScores(n, seed);

        // Warm up the JIT so the timings measure the algorithms.
        var (warmLabels, warmCandidate, warmChampion) = SyntheticScores(2000, seed + 1);
        BootstrapComparison.Run(warmLabels, warmCandidate, warmChampion, 4, seed);
        BootstrapComparison.RunNaive(warmLabels, warmCandidate, warmChampion, 4, seed);
        CtBuild.Evaluation.DeLong.Compare(warmLabels, warmCandidate, warmChampion);

        var (fast, fastTime, fastCpu) = Timed(() => BootstrapComparison.Run(labels, candidate, champion, resamples, seed));
        var (naive, naiveTime, naiveCpu) = Timed(() => BootstrapComparison.RunNaive(labels, candidate, champion, naiveResamples, seed));
        var (_, deLongTime, deLongCpu) = Timed(() => CtBuild.Evaluation.DeLong.Compare(labels, candidate, champion));

        bool matches = naive.DeltaAucs.SequenceEqual(fast.DeltaAucs.Take(naiveResamples));
        return new BootstrapBenchmarkResult(n, resamples, naiveResamples, Environment.ProcessorCount, loadAverage,
            fastTime, naiveTime, deLongTime, fastCpu, naiveCpu, deLongCpu, matches);
    }

    private static (T Result, TimeSpan Wall, TimeSpan Cpu) Timed<T>(Func<T> work)
    {
        GC.Collect();
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        T result = work();
        var wall = clock.Elapsed;
        process.Refresh();
        return (result, wall, process.TotalProcessorTime - cpuBefore);
    }

    /// <summary>
    /// About 24% positives (as in the Adult census sample); the champion sees the same signal with more
    /// noise, so the candidate is slightly better. Scores are rounded to float, like ML.NET's.
    /// </summary>
    internal static (bool[] Labels, double[] Candidate, double[] Champion) SyntheticScores(int n, ulong seed)
    {
        var random = new Xoshiro256x4(seed, 0);
        var labels = new bool[n];
        var candidate = new double[n];
        var champion = new double[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = random.NextDouble() < 0.24;
            double signal = (labels[i] ? 1.2 : 0.0) + Gaussian(ref random);
            candidate[i] = (float)Logistic(1.5 * signal - 1.5 + 0.3 * Gaussian(ref random));
            champion[i] = (float)Logistic(1.5 * signal - 1.5 + 0.6 * Gaussian(ref random));
        }
        return (labels, candidate, champion);
    }

    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));

    private static double Gaussian(ref Xoshiro256x4 random)
    {
        double u1 = 1.0 - random.NextDouble(); // (0, 1]: keeps the log finite
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }
}
