using CtBuild.Tests.Tracking;
using CtBuild.Tracking;
using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning;

/// <summary>Studies in a <see cref="FileStudyStorage"/>: a killed study resumes without training a completed trial again.</summary>
public sealed class StudyResumeTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly SearchSpace Space = SearchSpaceParser.Parse("""
        { "model": { "choice": { "a": { "x": "uniform(-2, 2)", "n": "int(1, 9)" }, "b": { "y": "loguniform(0.01, 1)" } } } }
        """);

    private static double Objective(IReadOnlyDictionary<string, object> p) => (string)p["model"] == "a"
        ? -Math.Pow((double)p["x"] - 0.5, 2) - Math.Abs((int)p["n"] - 4) / 10.0
        : -Math.Abs(Math.Log10((double)p["y"]) + 1);

    private static StudyIdentity Identity => new("resume", StudyDirection.Maximize, new Dictionary<string, string> { ["seed"] = "5" });

    private Study Open(string folder, ProcessOwner? worker = null) =>
        new(Space, new TpeSampler(5, new TpeOptions { NStartupTrials = 5 }), new FileStudyStorage(folder), Identity) { Worker = worker ?? ProcessOwner.Current };

    private static string Key(FrozenTrial t) => string.Join(",", t.Params.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}")) + $"→{t.Value:R}";

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    [InlineData(17)]
    public void A_study_killed_at_a_trial_resumes_without_retraining_and_ends_as_a_clean_run(int killedAt)
    {
        var clean = Open(Path.Combine(_folder.Path, "clean"))
            .Optimize((t, _) => new TrialOutcome(Objective(t.Params)), new StudyOptions { MaxEvals = 20, Parallelism = 1 });

        // The first process completes `killedAt` trials, claims the next one and dies with it running.
        var folder = Path.Combine(_folder.Path, "killed");
        using var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        var deadWorker = new ProcessOwner(gone.Id, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-1));
        var first = Open(folder, deadWorker);
        first.Optimize((t, _) => new TrialOutcome(Objective(t.Params)), new StudyOptions { MaxEvals = killedAt, Parallelism = 1 });
        var interrupted = first.Ask();

        // The rerun, a new process with a new storage handle and sampler.
        var trained = new List<IReadOnlyDictionary<string, object>>();
        var resumed = Open(folder).Optimize((t, _) =>
        {
            trained.Add(t.Params);
            return new TrialOutcome(Objective(t.Params));
        }, new StudyOptions { MaxEvals = 20, Parallelism = 1 });

        Assert.Equal(20 - killedAt, trained.Count); // no completed trial was trained again
        Assert.Equal(interrupted.Params, trained[0]); // the interrupted one ran again first, once
        var abandoned = Assert.Single(resumed.Trials, t => t.State == TrialState.Failed);
        Assert.True(abandoned.IsAbandoned);
        Assert.Equal(killedAt, abandoned.Number);
        Assert.Equal(killedAt, resumed.Trials.Single(t => t.RetryOf is not null).RetryOf);
        // The same study a clean run gives: the same parameters and values, in the same order.
        Assert.Equal(clean.Trials.Select(Key), resumed.Trials.Where(t => !t.IsAbandoned).Select(Key));
        Assert.Equal(clean.BestTrial!.Value, resumed.BestTrial!.Value);
    }

    [Fact]
    public void A_finished_study_runs_no_more_trials_and_a_study_with_other_inputs_is_refused()
    {
        var folder = Path.Combine(_folder.Path, "done");
        Open(folder).Optimize((t, _) => new TrialOutcome(Objective(t.Params)), new StudyOptions { MaxEvals = 6, Parallelism = 2 });
        int calls = 0;
        var again = Open(folder).Optimize((t, _) => { calls++; return new TrialOutcome(0); }, new StudyOptions { MaxEvals = 6, Parallelism = 2 });
        Assert.Equal(0, calls);
        Assert.Equal(6, again.Trials.Count);
        Assert.Equal(StopReason.MaxEvals, again.StopReason);

        var other = new StudyIdentity("resume", StudyDirection.Maximize, new Dictionary<string, string> { ["seed"] = "6" });
        var error = Assert.Throws<StudyMismatchException>(() => new Study(Space, new TpeSampler(6), new FileStudyStorage(folder), other));
        Assert.Contains("seed is '5' in the study, '6' here", error.Message);
    }

    [Fact]
    public void Suggestions_under_a_seed_are_fixed_by_ctbuild_not_by_the_runtime()
    {
        // Golden values: a change here means seeded studies give other trials than before (and than other processes).
        var space = SearchSpaceParser.Parse("""{ "x": "uniform(0, 1)", "n": "int(1, 100)", "c": "choice(a, b, c)" }""");
        var random = new RandomSampler(seed: 42);
        var first = random.Sample(space, [], StudyDirection.Maximize);
        var again = new RandomSampler(seed: 42).Sample(space, [], StudyDirection.Maximize);
        Assert.Equal(first, again);
        Assert.Equal("c=a, n=25, x=0.0538", string.Join(", ", first.OrderBy(p => p.Key).Select(p => $"{p.Key}={(p.Value is double d ? d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture) : p.Value)}")));
    }
}
