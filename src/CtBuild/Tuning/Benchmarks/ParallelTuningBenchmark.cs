using System.Diagnostics;
using System.Globalization;
using CtBuild.Configuration;
using CtBuild.Lake;
using CtBuild.Training;

namespace CtBuild.Tuning.Benchmarks;

/// <summary>Wall time of the same search at parallelism 1 and N, and the best validation AUC each found.</summary>
public sealed record ParallelTuningResult(int Trials, int Parallelism, double SerialSeconds, double ParallelSeconds, double SerialBestAuc, double ParallelBestAuc)
{
    public double SpeedUp => SerialSeconds / ParallelSeconds;

    public string Format() => string.Join(Environment.NewLine,
        $"{Trials}-trial search on the workspace's splits (same random trials both times)",
        $"  parallelism 1   {SerialSeconds,8:0.0} s   best valid AUC {SerialBestAuc:0.0000}",
        $"  parallelism {Parallelism}   {ParallelSeconds,8:0.0} s   best valid AUC {ParallelBestAuc:0.0000}",
        $"  speed-up        {SpeedUp,8:0.00}x   goal >= 1.6x on 2 cores");
}

/// <summary>
/// Runs the workspace's search space as a seeded random search twice — one trial at a time, then
/// <c>parallelism</c> at a time — on the splits Tune would read, so the two runs fit the same models.
/// </summary>
public static class ParallelTuningBenchmark
{
    public static ParallelTuningResult Run(Workspace ws, int trials, int parallelism, IProgress<string>? log = null)
    {
        var splits = LakeTables.Latest(ws, LakeTables.Splits, "split");
        var (train, valid, _) = SplitRows.LoadTrainAndValid(ws, splits);
        var trainer = new TrialTrainer(train, valid, ws.Config.Tune.Seed);
        var space = SearchSpaceParser.Parse(ws.Config.Tune.Space);
        trainer.Fit(ml => TrainerCatalog.Create(ml, new RandomSampler(0).Sample(space, [], StudyDirection.Maximize)), 0); // warm-up: native libraries load once

        (double Seconds, double Best) Search(int workers)
        {
            var study = new Study(space, new RandomSampler(ws.Config.Tune.Seed));
            var clock = Stopwatch.StartNew();
            var result = study.Optimize((trial, token) =>
            {
                var (_, auc, _) = trainer.Fit(ml => TrainerCatalog.Create(ml, trial.Params, threads: workers > 1 ? 1 : null), trial.Number, token);
                return new TrialOutcome(auc);
            }, new StudyOptions { MaxEvals = trials, Parallelism = workers });
            log?.Report($"parallelism {workers}: {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
            return (clock.Elapsed.TotalSeconds, result.BestTrial?.Value ?? double.NaN);
        }

        var serial = Search(1);
        var parallel = Search(parallelism);
        return new ParallelTuningResult(trials, parallelism, serial.Seconds, parallel.Seconds, serial.Best, parallel.Best);
    }
}
