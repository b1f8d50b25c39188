using CtBuild.Tests.Support;
using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning.Storage;

/// <summary>Successive halving with two workers (two connection pools) on one PostgreSQL study: rung decisions come from the server.</summary>
public sealed class PostgresHalvingTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    private static readonly SearchSpace Space = SearchSpaceParser.Parse("""{ "x": "uniform(0, 1)" }""");
    private static readonly SuccessiveHalving Halving = new([1.0 / 9, 1.0 / 3, 1]);
    private static readonly StudyIdentity Identity = new("halving", StudyDirection.Maximize, new Dictionary<string, string> { ["seed"] = "3" });

    [PostgresFact]
    public void Two_workers_prune_against_each_others_rung_values_and_neither_waits_for_the_other()
    {
        var db = server.NewDatabase();
        using var poolA = PostgresStudyStorage.Open(server.UrlWithPassword(db));
        using var poolB = PostgresStudyStorage.Open(server.UrlWithPassword(db));
        var a = new Study(Space, new PrunedRankingSampler(new RandomSampler(3)), poolA, Identity) { Pruner = Halving };
        var b = new Study(Space, new PrunedRankingSampler(new RandomSampler(3)), poolB, Identity) { Pruner = Halving };
        using var bDone = new ManualResetEventSlim();
        using var aHolding = new ManualResetEventSlim();
        bool bFinishedWhileAWaited = false;
        int held = 0;

        // Worker A's first trial holds its first rung until worker B has run a trial through every rung.
        var workerA = Task.Run(() => a.Optimize((trial, _) =>
        {
            double value = 0;
            Halving.Climb(trial, rung =>
            {
                if (rung == 0 && Interlocked.Exchange(ref held, 1) == 0) { aHolding.Set(); bFinishedWhileAWaited = bDone.Wait(TimeSpan.FromSeconds(30)); value = 0.01; }
                else value = trial.GetDouble("x") * (0.8 + 0.1 * rung);
                return (value, 0);
            });
            return new TrialOutcome(value);
        }, new StudyOptions { MaxEvals = 12, Parallelism = 1, WaitForOtherWorkers = true }));
        var workerB = Task.Run(() => b.Optimize((trial, token) =>
        {
            // B's trials start only once A holds its own, or B (started second, yet sometimes first) could run all 12.
            Assert.True(aHolding.Wait(TimeSpan.FromSeconds(30), token), "worker A never started a trial");
            double value = 0;
            Halving.Climb(trial, rung => (value = 0.5 + 0.4 * trial.GetDouble("x") + 0.01 * rung, 0));
            bDone.Set();
            return new TrialOutcome(value);
        }, new StudyOptions { MaxEvals = 12, Parallelism = 1 }));
        Task.WaitAll(workerA, workerB);

        Assert.True(bFinishedWhileAWaited);
        var trials = poolA.Trials("halving");
        Assert.Equal(12, trials.Count);
        Assert.All(trials, t => Assert.True(t.State is TrialState.Complete or TrialState.Pruned, t.ToString()));
        Assert.Contains(trials, t => t.State == TrialState.Pruned);
        // A's held trial reported 0.01 at rung 0 after B's better values were on the server, and was pruned there.
        var stopped = Assert.Single(trials, t => t.Intermediate.TryGetValue(0, out var v) && v == 0.01);
        Assert.Equal(TrialState.Pruned, stopped.State);
        Assert.All(trials.Where(t => t.State == TrialState.Complete), t => Assert.Equal(t.Intermediate[2], t.Value));
    }
}
