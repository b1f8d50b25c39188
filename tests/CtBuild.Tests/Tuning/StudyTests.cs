using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning;

public class StudyTests
{
    private static readonly SearchSpace Space = SearchSpaceParser.Parse("""{ "x": "uniform(0, 1)" }""");

    private static Study NewStudy(StudyDirection direction = StudyDirection.Maximize) => new(Space, new RandomSampler(seed: 1), direction);

    /// <summary>Collects reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Reports : IProgress<TrialProgress>
    {
        public List<TrialProgress> Items { get; } = [];

        public Action<TrialProgress>? OnReport { get; init; }

        public void Report(TrialProgress value)
        {
            lock (Items) Items.Add(value);
            OnReport?.Invoke(value);
        }
    }

    [Fact]
    public void Runs_max_evals_trials_and_returns_the_best()
    {
        var result = NewStudy(StudyDirection.Minimize).Optimize((t, _) => new TrialOutcome(t.GetDouble("x")), new StudyOptions { MaxEvals = 12, Parallelism = 1 });

        Assert.Equal(StopReason.MaxEvals, result.StopReason);
        Assert.Equal(Enumerable.Range(0, 12), result.Trials.Select(t => t.Number));
        Assert.All(result.Trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(result.Trials.Min(t => t.Value), result.BestTrial!.Value);
    }

    [Fact]
    public void Records_failing_trials_with_their_error_and_goes_on()
    {
        var result = NewStudy().Optimize((t, _) => t.Number switch
        {
            1 => throw new InvalidOperationException("out of memory in fold 3"),
            2 => new TrialOutcome(double.NaN),
            3 => new TrialOutcome(double.PositiveInfinity),
            _ => new TrialOutcome(t.Number, new Dictionary<string, double> { ["logloss"] = 0.5 }, Attachment: $"model {t.Number}"),
        }, new StudyOptions { MaxEvals = 6, Parallelism = 1 });

        Assert.Equal(6, result.Trials.Count);
        Assert.Equal([TrialState.Complete, TrialState.Failed, TrialState.Failed, TrialState.Failed, TrialState.Complete, TrialState.Complete],
            result.Trials.Select(t => t.State));
        Assert.Equal("InvalidOperationException: out of memory in fold 3", result.Trials[1].Error);
        Assert.Equal("the objective returned NaN", result.Trials[2].Error);
        Assert.Equal("the objective returned Infinity", result.Trials[3].Error);
        Assert.All(result.Trials.Where(t => t.State == TrialState.Failed), t => Assert.Null(t.Value));
        Assert.Equal(5, result.BestTrial!.Number);
        Assert.Equal(0.5, result.BestTrial.Metrics["logloss"]);
        Assert.Equal("model 5", result.BestTrial.Attachment);
        Assert.NotNull(result.BestTrial.Duration);
    }

    [Fact]
    public void Stops_after_patience_trials_without_progress()
    {
        var result = NewStudy().Optimize((t, _) => new TrialOutcome(1.0), new StudyOptions { MaxEvals = 100, Patience = 5, Parallelism = 1 });

        Assert.Equal(StopReason.NoProgress, result.StopReason);
        Assert.Equal(6, result.Trials.Count); // the first sets the reference, five more fail to beat it
    }

    [Fact]
    public void Gains_smaller_than_the_minimum_improvement_do_not_count_as_progress()
    {
        // Each trial improves by 0.004; only every third gain adds up past ε = 0.01 over the last reference.
        var result = NewStudy().Optimize((t, _) => new TrialOutcome(t.Number * 0.004),
            new StudyOptions { MaxEvals = 100, Patience = 3, MinImprovement = 0.01, Parallelism = 1 });
        Assert.Equal(StopReason.MaxEvals, result.StopReason);

        var stalled = NewStudy().Optimize((t, _) => new TrialOutcome(t.Number * 0.004),
            new StudyOptions { MaxEvals = 100, Patience = 2, MinImprovement = 0.01, Parallelism = 1 });
        Assert.Equal(StopReason.NoProgress, stalled.StopReason);
        Assert.Equal(3, stalled.Trials.Count);
        Assert.Equal(2, stalled.BestTrial!.Number); // the best is still the real best, tiny gains included
    }

    [Fact]
    public void Stops_at_the_time_budget_and_cancels_the_running_trial()
    {
        var result = NewStudy().Optimize((t, token) =>
        {
            if (t.Number == 2) Task.Delay(Timeout.Infinite, token).Wait(token);
            return new TrialOutcome(t.Number);
        }, new StudyOptions { MaxEvals = 1000, Budget = TimeSpan.FromMilliseconds(300), Parallelism = 1 });

        Assert.Equal(StopReason.TimeBudget, result.StopReason);
        Assert.Equal(3, result.Trials.Count);
        Assert.Equal("cancelled: the time budget ran out", result.Trials[2].Error);
        Assert.InRange(result.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void Stops_when_the_caller_cancels()
    {
        using var cancel = new CancellationTokenSource();
        var reports = new Reports { OnReport = r => { if (r.Finished == 3) cancel.Cancel(); } };

        var result = NewStudy().Optimize((t, _) => new TrialOutcome(t.Number), new StudyOptions { MaxEvals = 50, Parallelism = 1 }, reports, cancel.Token);

        Assert.Equal(StopReason.Cancelled, result.StopReason);
        Assert.Equal(3, result.Trials.Count);
    }

    [Fact]
    public void Reports_progress_after_each_trial()
    {
        var reports = new Reports();
        NewStudy().Optimize((t, _) => t.Number == 0 ? throw new Exception("boom") : new TrialOutcome(t.Number / 10.0),
            new StudyOptions { MaxEvals = 5, Parallelism = 1 }, reports);

        Assert.Equal([1, 2, 3, 4, 5], reports.Items.Select(r => r.Finished));
        Assert.All(reports.Items, r => Assert.Equal(5, r.Total));
        Assert.Equal([null, 0.1, 0.2, 0.3, 0.4], reports.Items.Select(r => r.BestValue));
        Assert.Equal(TimeSpan.Zero, reports.Items[^1].Remaining);
        Assert.True(reports.Items[0].Remaining >= TimeSpan.Zero);
        Assert.Equal("trial 12/60, best 0.9213, ~1m20s left",
            (reports.Items[1] with { Finished = 12, Total = 60, BestValue = 0.92127, Remaining = TimeSpan.FromSeconds(80) }).ToString());
    }

    [Fact]
    public void Runs_trials_in_parallel_without_losing_or_repeating_any()
    {
        int running = 0, maxRunning = 0;
        var study = new Study(Space, new TpeSampler(seed: 2, new TpeOptions { NStartupTrials = 4 }));
        var result = study.Optimize((t, _) =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            Thread.Sleep(15);
            Interlocked.Decrement(ref running);
            return new TrialOutcome(-Math.Abs(t.GetDouble("x") - 0.3));
        }, new StudyOptions { MaxEvals = 24, Parallelism = 3 });

        Assert.Equal(Enumerable.Range(0, 24), result.Trials.Select(t => t.Number).Order());
        Assert.All(result.Trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(3, maxRunning);
        Assert.Equal(24, study.Trials.Count);
    }

    [Fact]
    public void Ask_and_tell_refuse_a_trial_told_twice_and_expose_running_trials()
    {
        var study = NewStudy();
        var trial = study.Ask();
        Assert.Equal(TrialState.Running, Assert.Single(study.Trials).State);

        study.Tell(trial, new TrialOutcome(0.5));
        var error = Assert.Throws<InvalidOperationException>(() => study.Fail(trial, "late"));
        Assert.Contains("Trial #0 of study 'study' is not running", error.Message);
        Assert.Equal(0.5, study.BestTrial!.Value);
    }

    [Fact]
    public void Invalid_options_are_refused_with_every_problem()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            NewStudy().Optimize((_, _) => new TrialOutcome(0), new StudyOptions { MaxEvals = 0, Parallelism = 0, Patience = 0 }));
        Assert.Equal("Invalid study options: MaxEvals must be >= 1, but got 0; Patience must be >= 1, but got 0; Parallelism must be >= 1, but got 0.", error.Message);
    }

    [Fact]
    public void A_trial_past_its_timeout_is_recorded_timed_out_and_its_worker_moves_on_at_once()
    {
        using var release = new ManualResetEventSlim();
        var cancelled = new ManualResetEventSlim();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = NewStudy().Optimize((t, token) =>
        {
            if (t.Number != 1) return new TrialOutcome(t.Number) { Cost = 0.01 };
            // A trial that ignores nothing but its token would stall the worker; this one notices cancellation, then still
            // holds on until the test ends, so only a freed worker lets the study finish.
            token.WaitHandle.WaitOne();
            cancelled.Set();
            release.Wait(CancellationToken.None); // on purpose: it outlives its own cancellation
            return new TrialOutcome(99);
        }, new StudyOptions { MaxEvals = 5, Parallelism = 1, TrialTimeout = TrialTimeouts.Fixed(TimeSpan.FromMilliseconds(200)) });
        release.Set();

        Assert.Equal(5, result.Trials.Count);
        var timedOut = result.Trials[1];
        Assert.Equal(TrialState.TimedOut, timedOut.State);
        Assert.Null(timedOut.Value);
        Assert.StartsWith("timed out: still running after 0.2 s", timedOut.Error);
        Assert.True(timedOut.Cost >= 0.2, $"cost {timedOut.Cost}");
        Assert.True(cancelled.Wait(TimeSpan.FromSeconds(10)), "the trial's token was cancelled");
        Assert.All(result.Trials.Where(t => t.Number != 1), t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(0.01, result.Trials[0].Cost);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void The_derived_timeout_is_a_multiple_of_the_median_completed_trial_with_a_floor()
    {
        FrozenTrial Done(int n, double seconds, TrialState state = TrialState.Complete) => new(n, new Dictionary<string, object>(), state,
            state == TrialState.Complete ? 0.5 : null, new Dictionary<string, double>(), null, null, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(seconds));
        var timeout = TrialTimeouts.Derived(multiple: 5, floor: TimeSpan.FromSeconds(30), minCompleted: 3);

        Assert.Null(timeout([Done(0, 100), Done(1, 100)])); // too few to know the scale
        Assert.Equal(TimeSpan.FromSeconds(500), timeout([Done(0, 100), Done(1, 90), Done(2, 200), Done(3, 5000, TrialState.TimedOut)]));
        Assert.Equal(TimeSpan.FromSeconds(30), timeout([Done(0, 1), Done(1, 2), Done(2, 3)]));
    }

    [Fact]
    public void Timed_out_trials_count_as_bad_results_to_tpe()
    {
        // x above 0.6 always times out; TPE must stop proposing there as it would for a bad value (the best is at 0.3).
        var study = new Study(Space, new TpeSampler(seed: 3, new TpeOptions { NStartupTrials = 8 }));
        for (int i = 0; i < 40; i++)
        {
            var trial = study.Ask();
            double x = trial.GetDouble("x");
            if (x > 0.6) study.TimeOut(trial, TimeSpan.FromSeconds(1));
            else study.Tell(trial, new TrialOutcome(-Math.Abs(x - 0.3)));
        }
        var late = study.Trials.Skip(20).ToArray();
        Assert.True(late.Count(t => t.State == TrialState.TimedOut) <= 4, string.Join("\n", late.Select(t => t.ToString())));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
