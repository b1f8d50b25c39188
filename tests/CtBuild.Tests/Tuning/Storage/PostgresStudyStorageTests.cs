using System.Net;
using System.Net.Sockets;
using CtBuild.Tests.Support;
using CtBuild.Tracking;
using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning.Storage;

/// <summary>
/// The PostgreSQL study storage against a real server (one cluster for the class, one database per test): the storage
/// contract under contention from two connection pools (two processes' worth), staleness by the server's clock, and each
/// bad input a user can give it.
/// </summary>
public sealed class PostgresStudyStorageTests(PostgresServer server) : IClassFixture<PostgresServer>
{
    static readonly ProcessOwner Me = ProcessOwner.Current;

    static StudyIdentity Identity(string splits = "7") =>
        new("adult-s7", StudyDirection.Maximize, new Dictionary<string, string> { ["splits.version"] = splits, ["space"] = "abc", ["seed"] = "42" });

    static TrialFinish Complete(double value) =>
        new(TrialState.Complete, value, new Dictionary<string, double> { ["logloss"] = 0.3 }, null, TimeSpan.FromSeconds(2), 1.25);

    (PostgresStudyStorage Storage, string Database) Open()
    {
        var db = server.NewDatabase();
        return (PostgresStudyStorage.Open(server.UrlWithPassword(db)), db);
    }

    [PostgresFact]
    public void Two_connection_pools_claiming_at_once_never_get_the_same_number_and_each_proposal_sees_every_earlier_claim()
    {
        var (a, db) = Open();
        using var first = a;
        using var second = PostgresStudyStorage.Open(server.UrlWithPassword(db)); // another process's pool
        first.CreateOrJoin(Identity());
        second.CreateOrJoin(Identity());
        var seen = new int[40];
        Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i =>
        {
            var storage = i % 2 == 0 ? first : second;
            var trial = storage.Claim("adult-s7", Me, trials => new TrialProposal(new Dictionary<string, object> { ["x"] = (double)trials.Count }))!;
            Interlocked.Increment(ref seen[trial.Number]);
        });
        Assert.All(seen, count => Assert.Equal(1, count));
        var trials = second.Trials("adult-s7");
        Assert.Equal(Enumerable.Range(0, 40), trials.Select(t => t.Number));
        Assert.All(trials, t => Assert.Equal((double)t.Number, t.Params["x"]));
    }

    [PostgresFact]
    public void A_trial_round_trips_with_its_types_rung_values_cost_and_worker()
    {
        var (storage, _) = Open();
        using var _s = storage;
        storage.CreateOrJoin(Identity());
        var parameters = new Dictionary<string, object> { ["trainer"] = "LightGbm", ["leaves"] = 31, ["rate"] = 0.1, ["whole"] = 1.0, ["flag"] = true };
        var claimed = storage.Claim("adult-s7", Me, _ => new TrialProposal(parameters))!;
        storage.ReportIntermediate("adult-s7", claimed.Number, 0, 0.81);
        storage.ReportIntermediate("adult-s7", claimed.Number, 0, 0.99); // the first report of a step wins
        storage.ReportIntermediate("adult-s7", claimed.Number, 1, 0.84);
        var finished = storage.Finish("adult-s7", claimed.Number, Complete(0.9123456789012345));

        using var reader = PostgresStudyStorage.Open(server.UrlWithPassword(storage.Url.Database));
        var stored = Assert.Single(reader.Trials("adult-s7"));
        Assert.Equal(TrialState.Complete, stored.State);
        Assert.Equal(0.9123456789012345, stored.Value);
        Assert.Equal(1.25, stored.Cost);
        Assert.Equal(0.3, stored.Metrics["logloss"]);
        Assert.Equal(Me.ToString(), stored.Worker);
        Assert.Equal(new Dictionary<int, double> { [0] = 0.81, [1] = 0.84 }, stored.Intermediate);
        Assert.IsType<int>(stored.Params["leaves"]);
        Assert.IsType<double>(stored.Params["whole"]);
        Assert.Equal(parameters.OrderBy(p => p.Key), stored.Params.OrderBy(p => p.Key));
        Assert.Equal(finished.Value, stored.Value);
    }

    [PostgresFact]
    public void Joining_with_other_inputs_is_refused_naming_what_differs_and_writes_nothing()
    {
        var (storage, db) = Open();
        using var _s = storage;
        storage.CreateOrJoin(Identity());
        storage.Claim("adult-s7", Me, _ => new TrialProposal(new Dictionary<string, object> { ["x"] = 1.0 }));

        var error = Assert.Throws<StudyMismatchException>(() => storage.CreateOrJoin(Identity(splits: "8")));
        Assert.Equal(2, error.ExitCode);
        Assert.Contains("Study 'adult-s7'", error.Message);
        Assert.Contains("splits.version is '7' in the study, '8' here", error.Message);
        Assert.DoesNotContain(PostgresServer.Password, error.Message);
        Assert.Equal(1L, server.Sql(db, "SELECT count(*) FROM ctb_trials"));
        Assert.Equal(1L, server.Sql(db, "SELECT count(*) FROM ctb_studies"));
    }

    [PostgresFact]
    public void The_first_finish_wins_and_a_late_one_gets_the_record_that_stands()
    {
        var (storage, _) = Open();
        using var _s = storage;
        storage.CreateOrJoin(Identity());
        var trial = storage.Claim("adult-s7", Me, _ => new TrialProposal(new Dictionary<string, object> { ["x"] = 1.0 }))!;
        storage.Finish("adult-s7", trial.Number, Complete(0.8));
        var late = storage.Finish("adult-s7", trial.Number, new TrialFinish(TrialState.Failed, null, new Dictionary<string, double>(), "boom", TimeSpan.FromSeconds(1), null));
        Assert.Equal(TrialState.Complete, late.State);
        Assert.Equal(0.8, late.Value);
        Assert.Throws<InvalidOperationException>(() => storage.Finish("adult-s7", 99, Complete(0.5)));
    }

    [PostgresFact]
    public void A_silent_trial_of_another_machine_is_failed_by_the_servers_clock_while_a_beating_one_lives()
    {
        var (storage, _) = Open();
        using var _s = storage;
        storage.CreateOrJoin(Identity());
        // Workers on other hosts cannot be checked for liveness from here: only their heartbeats tell.
        var elsewhere = new ProcessOwner(4242, "some-other-machine", DateTimeOffset.UtcNow);
        var silent = storage.Claim("adult-s7", elsewhere, _ => new TrialProposal(new Dictionary<string, object> { ["x"] = 1.0 }))!;
        var beating = storage.Claim("adult-s7", elsewhere, _ => new TrialProposal(new Dictionary<string, object> { ["x"] = 2.0 }))!;
        Assert.Empty(storage.FailStale("adult-s7", TimeSpan.FromSeconds(30)));
        for (var i = 0; i < 6; i++)
        {
            Thread.Sleep(250);
            storage.Heartbeat("adult-s7", beating.Number);
        }
        var failed = Assert.Single(storage.FailStale("adult-s7", TimeSpan.FromSeconds(1)));
        Assert.Equal(silent.Number, failed.Number);
        Assert.True(failed.IsAbandoned, failed.Error);
        Assert.Contains("no heartbeat", failed.Error);
        var trials = storage.Trials("adult-s7");
        Assert.Equal(TrialState.Failed, trials[silent.Number].State);
        Assert.Equal(TrialState.Running, trials[beating.Number].State);
        // The worker that was judged dead reports late: its result does not overwrite the record that stands.
        Assert.Equal(TrialState.Failed, storage.Finish("adult-s7", silent.Number, Complete(0.9)).State);
    }

    [PostgresFact]
    public void A_trial_whose_worker_on_this_machine_has_ended_is_failed_at_once()
    {
        var (storage, _) = Open();
        using var _s = storage;
        storage.CreateOrJoin(Identity());
        var gone = new ProcessOwner(int.MaxValue - 7, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-1));
        var trial = storage.Claim("adult-s7", gone, _ => new TrialProposal(new Dictionary<string, object> { ["x"] = 1.0 }))!;
        var failed = Assert.Single(storage.FailStale("adult-s7", TimeSpan.FromMinutes(10)));
        Assert.Equal(trial.Number, failed.Number);
        Assert.Contains("ended", failed.Error);
    }

    [PostgresFact]
    public void A_schema_from_a_newer_CtBuild_is_refused_with_exit_2_and_nothing_written()
    {
        var (storage, db) = Open();
        storage.Dispose();
        server.Sql(db, "UPDATE ctb_meta SET value = '2' WHERE key = 'schema_version'");
        var error = Assert.Throws<CtBuildException>(() => PostgresStudyStorage.Open(server.UrlWithPassword(db)));
        Assert.Equal(2, error.ExitCode);
        Assert.Contains("newer CtBuild", error.Message);
        Assert.Contains($"postgresql://postgres@127.0.0.1:{server.Port}/{db}", error.Message);
        Assert.Equal(0L, server.Sql(db, "SELECT count(*) FROM ctb_studies"));
    }

    [PostgresFact]
    public void A_refused_login_says_so_without_the_password()
    {
        var db = server.NewDatabase();
        var error = Assert.Throws<CtBuildException>(() => PostgresStudyStorage.Open($"postgresql://postgres:not-the-password@127.0.0.1:{server.Port}/{db}"));
        Assert.Equal(2, error.ExitCode);
        Assert.Contains("refused the login of user 'postgres'", error.Message);
        Assert.Contains("PGPASSWORD", error.Message);
        Assert.DoesNotContain("not-the-password", error.Message);
    }

    [PostgresFact]
    public void A_server_that_is_down_or_a_database_that_is_missing_is_a_clear_error()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var down = Assert.Throws<CtBuildException>(() => PostgresStudyStorage.Open($"postgresql://ctb:secret@127.0.0.1:{port}/ctb"));
        Assert.Equal(2, down.ExitCode);
        Assert.Contains($"Cannot reach PostgreSQL at postgresql://ctb@127.0.0.1:{port}/ctb", down.Message);
        Assert.DoesNotContain("secret", down.Message);

        var missing = Assert.Throws<CtBuildException>(() => PostgresStudyStorage.Open(server.UrlWithPassword("no_such_db")));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no database 'no_such_db'", missing.Message);
    }

    [Theory]
    [InlineData("postgresql://host/db", "name the user")]
    [InlineData("postgresql://ctb@host", "name one database")]
    [InlineData("postgresql://ctb:hunter2@host/db?pool=9", "unknown option 'pool'")]
    [InlineData("mysql://ctb@host/db", "expected postgresql://")]
    public void A_malformed_url_names_what_is_wrong_and_masks_the_password(string url, string what)
    {
        var error = Assert.Throws<CtBuildException>(() => PostgresUrl.Parse(url));
        Assert.Equal(2, error.ExitCode);
        Assert.Contains(what, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Fact]
    public void A_url_prints_without_its_password_and_takes_it_from_PGPASSWORD_only_when_absent()
    {
        var url = PostgresUrl.Parse("postgresql://ctb:s3cret@db.internal:6543/studies?sslmode=require");
        Assert.Equal("postgresql://ctb@db.internal:6543/studies", url.ToString());
        Assert.Equal(6543, url.Port);
        Assert.Contains("Password=s3cret", url.ConnectionString(4));
        Assert.Contains("SSL Mode=Require", url.ConnectionString(4));
        Assert.Equal(5432, PostgresUrl.Parse("postgres://ctb@db/studies").Port);
    }
}
