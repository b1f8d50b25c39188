using CtBuild.Tests.Tracking;
using CtBuild.Tracking;
using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning;

/// <summary>Successive halving (ASHA): rung promotion, nested subsamples, fidelity settings, resume with rung trials.</summary>
public sealed class SuccessiveHalvingTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly SearchSpace Space = SearchSpaceParser.Parse("""{ "x": "uniform(0, 1)" }""");

    private static FrozenTrial AtRung(int number, params double[] rungValues) =>
        new(number, new Dictionary<string, object> { ["x"] = 0.5 }, TrialState.Running, null, new Dictionary<string, double>(), null, null, DateTimeOffset.UtcNow, null)
        {
            Intermediate = rungValues.Select((v, i) => (v, i)).ToDictionary(p => p.i, p => p.v),
        };

    [Fact]
    public void Of_nine_trials_at_a_rung_the_best_three_go_on_and_the_rest_do_not()
    {
        var halving = new SuccessiveHalving([1.0 / 9, 1.0 / 3, 1]);
        double[] values = [0.5, 0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4];
        var trials = values.Select((v, i) => AtRung(i, v)).ToArray();

        var promoted = trials.Where(t => halving.Promotes(trials, t.Number, 0, StudyDirection.Maximize)).Select(t => t.Intermediate[0]).Order();
        Assert.Equal([0.7, 0.8, 0.9], promoted);
        // Minimising, the three smallest go on.
        var promotedMin = trials.Where(t => halving.Promotes(trials, t.Number, 0, StudyDirection.Minimize)).Select(t => t.Intermediate[0]).Order();
        Assert.Equal([0.1, 0.2, 0.3], promotedMin);
        // The last rung is all rows: nothing goes on from there.
        Assert.False(halving.Promotes([AtRung(0, 0.5, 0.6, 0.7)], 0, 2, StudyDirection.Maximize));
    }

    [Fact]
    public void A_trial_is_judged_against_the_trials_that_reached_the_rung_before_it_and_an_abandoned_one_does_not_count()
    {
        var halving = new SuccessiveHalving([1.0 / 3, 1]);
        Assert.True(halving.Promotes([AtRung(0, 0.2)], 0, 0, StudyDirection.Maximize)); // alone at the rung: it goes on
        Assert.False(halving.Promotes([AtRung(0, 0.2), AtRung(1, 0.1)], 1, 0, StudyDirection.Maximize)); // fewer than η: only the best
        var abandoned = AtRung(0, 0.9) with { State = TrialState.Failed, Error = FrozenTrial.AbandonedPrefix + " its worker ended" };
        Assert.True(halving.Promotes([abandoned, AtRung(1, 0.5)], 1, 0, StudyDirection.Maximize));
        Assert.Throws<InvalidOperationException>(() => halving.Promotes([AtRung(0)], 0, 0, StudyDirection.Maximize));
    }

    [Fact]
    public void A_study_with_halving_prunes_at_the_rungs_and_completes_the_rest_on_all_rows()
    {
        var halving = new SuccessiveHalving([1.0 / 9, 1.0 / 3, 1]);
        var study = new Study(Space, new RandomSampler(3)) { Pruner = halving };
        var fits = new List<(int Trial, int Rung)>();
        // The value at a rung grows with x and with the rung's share of rows, as a model learns more from more data.
        var result = study.Optimize((trial, _) =>
        {
            double x = trial.GetDouble("x");
            double value = double.NaN;
            var seconds = halving.Climb(trial, rung =>
            {
                lock (fits) fits.Add((trial.Number, rung));
                value = x * (0.7 + 0.1 * rung);
                return (value, 0.5 * (rung + 1));
            });
            return new TrialOutcome(value) { Cost = seconds };
        }, new StudyOptions { MaxEvals = 27, Parallelism = 1 });

        var pruned = result.Trials.Where(t => t.State == TrialState.Pruned).ToArray();
        var complete = result.Trials.Where(t => t.State == TrialState.Complete).ToArray();
        Assert.Equal(27, pruned.Length + complete.Length);
        Assert.InRange(pruned.Length, 14, 26); // most are stopped early
        foreach (var t in complete)
        {
            Assert.Equal([0, 1, 2], t.Intermediate.Keys.Order());
            Assert.Equal(t.Intermediate[2], t.Value); // the trial's value is the all-rows rung's
            Assert.Equal(0.5 + 1 + 1.5, t.Cost!.Value, 9);
        }
        foreach (var t in pruned)
        {
            int last = t.Intermediate.Keys.Max();
            Assert.True(last < 2);
            Assert.Contains($"pruned at rung {last}", t.Error);
            Assert.Equal(Enumerable.Range(0, last + 1).Sum(r => 0.5 * (r + 1)), t.Cost!.Value, 9);
            // Replayed at parallelism 1: it was not among the best third of the trials at that rung up to it.
            var before = result.Trials.Where(o => o.Number <= t.Number).ToArray();
            Assert.False(halving.Promotes(before, t.Number, last, StudyDirection.Maximize));
        }
        Assert.Equal(fits.Count, result.Trials.Sum(t => t.Intermediate.Count)); // every fit reported its rung
        Assert.Equal(result.Trials.Where(t => t.State == TrialState.Complete).Max(t => t.Value), result.BestTrial!.Value);
    }

    [Fact]
    public void No_worker_waits_on_a_rung_a_trial_finishes_all_rungs_while_another_is_still_on_its_first()
    {
        var halving = new SuccessiveHalving([1.0 / 9, 1.0 / 3, 1]);
        var study = new Study(Space, new RandomSampler(1)) { Pruner = halving };
        using var secondDone = new ManualResetEventSlim();
        bool secondFinishedFirst = false;
        var result = study.Optimize((trial, _) =>
        {
            double value = 0;
            halving.Climb(trial, rung =>
            {
                // Trial 0 holds its first rung until trial 1 has gone through every rung (or 20 s pass, if it is stuck).
                if (trial.Number == 0 && rung == 0) secondFinishedFirst = secondDone.Wait(TimeSpan.FromSeconds(20));
                value = trial.Number == 0 ? 0.1 : 0.9;
                return (value, 0);
            });
            if (trial.Number == 1) secondDone.Set();
            return new TrialOutcome(value);
        }, new StudyOptions { MaxEvals = 2, Parallelism = 2 });

        Assert.True(secondFinishedFirst);
        Assert.Equal(TrialState.Complete, result.Trials.Single(t => t.Number == 1).State);
        // Trial 0 reached rung 0 after trial 1's 0.9 was stored there, and was pruned against it.
        Assert.Equal(TrialState.Pruned, result.Trials.Single(t => t.Number == 0).State);
    }

    [Fact]
    public void Subsamples_are_nested_and_the_same_under_a_seed()
    {
        var halving = SuccessiveHalving.Standard;
        var a = halving.Subsamples(10_000, seed: 7);
        var b = halving.Subsamples(10_000, seed: 7);
        Assert.Equal([371, 1112, 3334, 10_000], a.Select(r => r.Length));
        for (int r = 0; r < a.Count; r++) Assert.Equal(a[r], b[r]);
        for (int r = 0; r + 1 < a.Count; r++) Assert.Subset(a[r + 1].ToHashSet(), a[r].ToHashSet());
        Assert.All(a, rung => Assert.Equal(rung.Order(), rung)); // row order kept
        Assert.Equal(Enumerable.Range(0, 10_000), a[^1]);
        Assert.NotEqual(a[0], halving.Subsamples(10_000, seed: 8)[0]);
        // Fixed by CtBuild's own generator, so every process and .NET version draws the same rows.
        Assert.Equal([50, 61, 78, 116, 141], a[0].Take(5));
    }

    [Theory]
    [InlineData("auto", 499_999, null)]
    [InlineData("auto", 500_000, "1/27, 1/9, 1/3, 1")]
    [InlineData("off", 5_000_000, null)]
    [InlineData("on", 1_000, "1/27, 1/9, 1/3, 1")]
    [InlineData("1/9, 1/3, 1", 1_000, "1/9, 1/3, 1")]
    [InlineData("0.25,1", 1_000, "1/4, 1")]
    public void Fidelity_settings_switch_halving_on_and_off(string setting, int rows, string? rungs)
    {
        Assert.Equal(rungs, SuccessiveHalving.ForSetting(setting, rows)?.ToString());
        Assert.Null(SuccessiveHalving.Check(setting));
    }

    [Theory]
    [InlineData("sometimes", "is not a share of the training rows")]
    [InlineData("1/3, 1/9, 1", "must grow strictly")]
    [InlineData("1/9, 1/3", "the last rung must be 1")]
    [InlineData("1", "at least two rungs")]
    [InlineData("0, 1", "is not a share")]
    public void A_bad_fidelity_says_what_is_wrong(string setting, string expected)
    {
        Assert.Contains(expected, SuccessiveHalving.Check(setting));
        Assert.Contains(expected, Assert.Throws<ArgumentException>(() => SuccessiveHalving.ForSetting(setting, 10)).Message);
    }

    [Fact]
    public void Pruned_trials_rank_after_completed_ones_higher_rungs_first_then_by_value()
    {
        FrozenTrial Finished(int n, TrialState state, double? value, params double[] rungs) => AtRung(n, rungs) with { State = state, Value = value };
        var trials = new[]
        {
            Finished(0, TrialState.Complete, 0.70, 0.6, 0.7),
            Finished(1, TrialState.Pruned, null, 0.95),       // high value, but stopped at rung 0
            Finished(2, TrialState.Pruned, null, 0.80, 0.65), // reached rung 1
            Finished(3, TrialState.Pruned, null, 0.90),
            Finished(4, TrialState.Failed, null),
        };
        foreach (var direction in new[] { StudyDirection.Maximize, StudyDirection.Minimize })
        {
            var flipped = direction == StudyDirection.Maximize ? trials
                : trials.Select(t => t with { Value = -t.Value, Intermediate = t.Intermediate.ToDictionary(i => i.Key, i => -i.Value) }).ToArray();
            var ranked = PrunedRankingSampler.Ranked(flipped, direction);
            Assert.Equal(TrialState.Failed, ranked[4].State);
            Assert.All(ranked.Take(4), t => Assert.Equal(TrialState.Complete, t.State));
            double Up(int n) => direction == StudyDirection.Maximize ? ranked[n].Value!.Value : -ranked[n].Value!.Value;
            Assert.Equal(0.70, Up(0), 12); // completed values are kept
            Assert.True(Up(0) > Up(2) && Up(2) > Up(1) && Up(1) > Up(3)); // complete, then rung 1, then rung 0 by value
        }
    }

    [Fact]
    public void A_study_with_rung_trials_killed_mid_trial_resumes_without_training_a_finished_trial_again()
    {
        var halving = new SuccessiveHalving([1.0 / 9, 1.0 / 3, 1]);
        var identity = new StudyIdentity("halving", StudyDirection.Maximize, new Dictionary<string, string> { ["seed"] = "4" });
        Study Open(string folder, ProcessOwner? worker = null) =>
            new(Space, new PrunedRankingSampler(new TpeSampler(4, new TpeOptions { NStartupTrials = 4 })), new FileStudyStorage(folder), identity)
            { Pruner = halving, Worker = worker ?? ProcessOwner.Current };
        TrialOutcome Objective(Trial trial, List<(int, int)>? fits = null)
        {
            double value = 0;
            halving.Climb(trial, rung =>
            {
                fits?.Add((trial.Number, rung));
                value = Math.Sin(7 * trial.GetDouble("x")) * (0.8 + 0.1 * rung);
                return (value, 0);
            });
            return new TrialOutcome(value);
        }
        string Key(FrozenTrial t) => $"{t.Params["x"]:R} {t.State} {t.Value:R} " + string.Join(",", t.Intermediate.OrderBy(i => i.Key).Select(i => $"{i.Value:R}"));

        var clean = Open(Path.Combine(_folder.Path, "clean")).Optimize((t, _) => Objective(t), new StudyOptions { MaxEvals = 16, Parallelism = 1 });

        // A first process finishes 9 trials, then dies in trial 9 after reporting its first rung.
        var folder = Path.Combine(_folder.Path, "killed");
        using var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        var first = Open(folder, new ProcessOwner(gone.Id, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-1)));
        first.Optimize((t, _) => Objective(t), new StudyOptions { MaxEvals = 9, Parallelism = 1 });
        var interrupted = first.Ask();
        interrupted.Report(0, 0.5);

        var fits = new List<(int Trial, int Rung)>();
        var resumed = Open(folder).Optimize((t, _) => Objective(t, fits), new StudyOptions { MaxEvals = 16, Parallelism = 1 });

        Assert.DoesNotContain(fits, f => f.Trial < 9); // no finished trial, completed or pruned, was trained again
        var abandoned = resumed.Trials.Single(t => t.IsAbandoned);
        Assert.Equal(0.5, abandoned.Intermediate[0]); // its rung value stays in the record, but counts at no rung
        // Apart from the abandoned trial, the same trials with the same rung values and states as a clean run.
        Assert.Equal(clean.Trials.Select(Key), resumed.Trials.Where(t => !t.IsAbandoned).Select(Key));
    }
}
