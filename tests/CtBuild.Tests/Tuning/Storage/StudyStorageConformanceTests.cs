using CtBuild.Tests.Tracking;
using CtBuild.Tracking;
using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning.Storage;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>The <see cref="IStudyStorage"/> contract, run against every implementation (a new backend adds itself here).</summary>
public sealed class StudyStorageConformanceTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private static readonly ProcessOwner Me = ProcessOwner.Current;

    public static TheoryData<string> Storages => ["memory", "file"];

    public void Dispose() => _folder.Dispose();

    private IStudyStorage Make(string kind) => kind == "memory"
        ? new InMemoryStudyStorage(_clock)
        : new FileStudyStorage(Path.Combine(_folder.Path, "studies"), _clock);

    private static StudyIdentity Identity(string splits = "7", string space = "abc") =>
        new("adult-s7", StudyDirection.Maximize, new Dictionary<string, string> { ["splits.version"] = splits, ["space"] = space, ["seed"] = "42" });

    private static Func<IReadOnlyList<FrozenTrial>, TrialProposal?> Propose(double x) =>
        _ => new TrialProposal(new Dictionary<string, object> { ["x"] = x });

    private static TrialFinish Complete(double value, double cost = 1.5) =>
        new(TrialState.Complete, value, new Dictionary<string, double> { ["logloss"] = 0.3 }, null, TimeSpan.FromSeconds(2), cost);

    [Theory]
    [MemberData(nameof(Storages))]
    public void A_study_is_joined_with_the_same_inputs_and_refused_with_others_naming_what_differs(string kind)
    {
        var storage = Make(kind);
        storage.CreateOrJoin(Identity());
        storage.Claim("adult-s7", Me, Propose(0.5));
        storage.CreateOrJoin(Identity()); // joining keeps the trials
        Assert.Single(storage.Trials("adult-s7"));

        var error = Assert.Throws<StudyMismatchException>(() => storage.CreateOrJoin(Identity(splits: "8")));
        Assert.Contains("Study 'adult-s7'", error.Message);
        Assert.Contains("splits.version is '7' in the study, '8' here", error.Message);
        Assert.DoesNotContain("space", string.Join(" ", error.Differences));
        Assert.Equal(2, error.ExitCode);
        Assert.Single(storage.Trials("adult-s7")); // nothing written
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void Claims_number_trials_in_order_and_never_twice_under_contention(string kind)
    {
        var storage = Make(kind);
        storage.CreateOrJoin(Identity());
        // Two handles on one file store stand for two processes: each has its own in-process lock and cache.
        var other = kind == "file" ? new FileStudyStorage(Path.Combine(_folder.Path, "studies"), _clock) : storage;
        var seen = new int[64];
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var handle = i % 2 == 0 ? storage : other;
            var trial = handle.Claim("adult-s7", Me, trials => new TrialProposal(new Dictionary<string, object> { ["x"] = (double)trials.Count }))!;
            Interlocked.Increment(ref seen[trial.Number]);
        });
        Assert.All(seen, count => Assert.Equal(1, count));
        var trials = storage.Trials("adult-s7");
        Assert.Equal(Enumerable.Range(0, 64), trials.Select(t => t.Number));
        // Each proposal saw every earlier claim: its snapshot had exactly `number` trials.
        Assert.All(trials, t => Assert.Equal((double)t.Number, t.Params["x"]));
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void A_proposal_of_null_claims_nothing(string kind)
    {
        var storage = Make(kind);
        storage.CreateOrJoin(Identity());
        Assert.Null(storage.Claim("adult-s7", Me, _ => null));
        Assert.Empty(storage.Trials("adult-s7"));
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void Finished_trials_keep_state_value_metrics_cost_typed_parameters_and_rung_values(string kind)
    {
        var storage = Make(kind);
        storage.CreateOrJoin(Identity());
        var parameters = new Dictionary<string, object> { ["trainer"] = "LightGbm", ["leaves"] = 31, ["rate"] = 1.0, ["flag"] = true, ["tiny"] = 1e-300 };
        storage.Claim("adult-s7", Me, _ => new TrialProposal(parameters));
        storage.ReportIntermediate("adult-s7", 0, 0, 0.81);
        storage.ReportIntermediate("adult-s7", 0, 1, 0.84);
        storage.ReportIntermediate("adult-s7", 0, 1, 0.99); // the first report of a step wins
        var recorded = storage.Finish("adult-s7", 0, Complete(0.8512345678901234));

        var reread = kind == "file" ? new FileStudyStorage(Path.Combine(_folder.Path, "studies")).Trials("adult-s7")[0] : storage.Trials("adult-s7")[0];
        foreach (var trial in new[] { recorded, reread })
        {
            Assert.Equal(TrialState.Complete, trial.State);
            Assert.Equal(0.8512345678901234, trial.Value);
            Assert.Equal(0.3, trial.Metrics["logloss"]);
            Assert.Equal(1.5, trial.Cost);
            Assert.Equal(TimeSpan.FromSeconds(2), trial.Duration);
            Assert.IsType<int>(trial.Params["leaves"]);
            Assert.IsType<double>(trial.Params["rate"]);
            Assert.Equal(parameters.OrderBy(p => p.Key), trial.Params.OrderBy(p => p.Key));
            Assert.Equal(new Dictionary<int, double> { [0] = 0.81, [1] = 0.84 }, trial.Intermediate);
            Assert.Equal(Me.ToString(), trial.Worker);
        }
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void The_first_finish_wins(string kind)
    {
        var storage = Make(kind);
        storage.CreateOrJoin(Identity());
        storage.Claim("adult-s7", Me, Propose(0.5));
        storage.Finish("adult-s7", 0, new TrialFinish(TrialState.TimedOut, null, new Dictionary<string, double>(), "timed out", TimeSpan.FromSeconds(9), null));
        var second = storage.Finish("adult-s7", 0, Complete(0.9));
        Assert.Equal(TrialState.TimedOut, second.State);
        Assert.Null(second.Value);
        Assert.Equal(9, second.Cost); // no cost measured: the duration stands in
        Assert.Throws<InvalidOperationException>(() => storage.Finish("adult-s7", 5, Complete(0.9)));
        Assert.Throws<ArgumentException>(() => storage.Finish("adult-s7", 0, new TrialFinish(TrialState.Complete, null, new Dictionary<string, double>(), null, TimeSpan.Zero, null)));
    }

    [Theory]
    [MemberData(nameof(Storages))]
    public void Trials_without_a_heartbeat_past_the_timeout_or_with_an_ended_worker_are_failed_as_abandoned(string kind)
    {
        var storage = Make(kind);
        storage.CreateOrJoin(Identity());
        var dead = new ProcessOwner(2147483000, Environment.MachineName, DateTimeOffset.UtcNow);
        storage.Claim("adult-s7", Me, Propose(0.1));   // #0 beats
        storage.Claim("adult-s7", Me, Propose(0.2));   // #1 goes silent
        storage.Claim("adult-s7", dead, Propose(0.3)); // #2's process is gone
        storage.Claim("adult-s7", Me, Propose(0.4));   // #3 finishes
        storage.Finish("adult-s7", 3, Complete(0.7));

        _clock.Now += TimeSpan.FromSeconds(40);
        storage.Heartbeat("adult-s7", 0);
        Assert.Equal([2], storage.FailStale("adult-s7", TimeSpan.FromSeconds(60)).Select(t => t.Number));
        _clock.Now += TimeSpan.FromSeconds(30);
        var failed = storage.FailStale("adult-s7", TimeSpan.FromSeconds(60));

        Assert.Equal([1], failed.Select(t => t.Number));
        var trials = storage.Trials("adult-s7");
        Assert.Equal([TrialState.Running, TrialState.Failed, TrialState.Failed, TrialState.Complete], trials.Select(t => t.State));
        Assert.True(trials[1].IsAbandoned);
        Assert.Contains("no heartbeat for 70 s", trials[1].Error);
        Assert.Contains("ended", trials[2].Error);
        // The slow worker's late finish changes nothing: the failure stands.
        Assert.Equal(TrialState.Failed, storage.Finish("adult-s7", 1, Complete(0.95)).State);
    }
}

public sealed class FileStudyStorageTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_study_written_by_a_newer_layout_is_refused_with_what_to_do()
    {
        var storage = new FileStudyStorage(_folder.Path);
        var identity = new StudyIdentity("s", StudyDirection.Maximize, new Dictionary<string, string>());
        Directory.CreateDirectory(Path.Combine(_folder.Path, "s"));
        File.WriteAllText(Path.Combine(_folder.Path, "s", "study.json"),
            """{"name":"s","direction":"Maximize","inputsHash":"x","inputs":{},"format":99}""");
        var error = Assert.Throws<CtBuildException>(() => storage.CreateOrJoin(identity));
        Assert.Contains("layout version 99, written by a newer CtBuild", error.Message);
        Assert.Equal(2, error.ExitCode);
    }

    [Fact]
    public void A_corrupt_record_names_its_file()
    {
        var storage = new FileStudyStorage(_folder.Path);
        storage.CreateOrJoin(new StudyIdentity("s", StudyDirection.Maximize, new Dictionary<string, string>()));
        File.WriteAllText(Path.Combine(_folder.Path, "s", "trials", "000000.claim.json"), "{not json");
        var error = Assert.Throws<CtBuildException>(() => storage.Trials("s"));
        Assert.Contains("000000.claim.json is not valid", error.Message);
    }

    [Fact]
    public void Study_names_that_cannot_be_a_folder_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new StudyIdentity("../escape", StudyDirection.Maximize, new Dictionary<string, string>()));
        Assert.Contains("Study name '../escape'", error.Message);
    }
}
