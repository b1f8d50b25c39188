using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CtBuild.Tracking;
using Npgsql;
using NpgsqlTypes;

namespace CtBuild.Tuning;

/// <summary>
/// A study on a PostgreSQL server, so that workers on many machines run the trials of one study (as Optuna's RDB
/// storage does). Two tables, created on first use: <c>ctb_studies</c> (name, identity) and <c>ctb_trials</c> (one row a
/// trial: the claim and the finish as the same JSON the file store keeps, rung values, the last heartbeat).
/// </summary>
/// <remarks>
/// Lessons from Optuna's RDB storage taken here:
/// <list type="bullet">
/// <item>Heartbeats and staleness use the server's clock (<c>now()</c>), never a worker's, so clock skew between machines
/// cannot fail a live trial (optuna#4234); a stale-fail only applies if no heartbeat arrived since it was judged.</item>
/// <item>Every finish is a conditional <c>UPDATE … WHERE state = 'Running'</c>: two workers finishing at once, or a worker and
/// a stale-fail, cannot both win, and a late finish is not an error (optuna#5582, #5470).</item>
/// <item>Claims take a per-study advisory lock for the few milliseconds of sampling, so numbers are unique without retries.</item>
/// <item>One small connection pool per process (<see cref="MaxPoolSize"/>), so many workers do not exhaust the server's
/// connections (optuna#1347).</item>
/// </list>
/// </remarks>
public sealed class PostgresStudyStorage : IStudyStorage, IDisposable
{
    /// <summary>The schema version this CtBuild writes; a database with a higher one was set up by a newer CtBuild.</summary>
    public const int SchemaVersion = 1;

    /// <summary>Connections one process keeps at most: a worker needs one at a time, plus one for its heartbeat.</summary>
    public const int MaxPoolSize = 4;

    private readonly NpgsqlDataSource _source;
    private readonly ConcurrentDictionary<(string Study, int Number), FrozenTrial> _finished = new();
    private readonly Lazy<bool> _schema;

    private PostgresStudyStorage(PostgresUrl url)
    {
        Url = url;
        _source = NpgsqlDataSource.Create(url.ConnectionString(MaxPoolSize));
        _schema = new Lazy<bool>(EnsureSchema, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Where the study lives, without any password (safe to print).</summary>
    public PostgresUrl Url { get; }

    /// <summary>
    /// Opens the storage at <paramref name="url"/> (<c>postgresql://user@host:5432/db</c>) and checks the server answers
    /// and its schema is one this CtBuild reads.
    /// </summary>
    /// <exception cref="CtBuildException">Exit code 2: a malformed URL, a server that is down or refuses the login, or
    /// a schema from a newer CtBuild; the message names the URL without its password.</exception>
    public static PostgresStudyStorage Open(string url)
    {
        var storage = new PostgresStudyStorage(PostgresUrl.Parse(url));
        try
        {
            _ = storage._schema.Value;
            return storage;
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    public void CreateOrJoin(StudyIdentity identity)
    {
        Execute(conn =>
        {
            using var tx = conn.BeginTransaction();
            Lock(conn, identity.Name);
            using (var read = Command(conn, "SELECT identity FROM ctb_studies WHERE name = @name", ("name", identity.Name)))
            {
                if (read.ExecuteScalar() is string stored)
                {
                    identity.RequireSameAs(TrialJson.ReadIdentity(JsonNode.Parse(stored)!.AsObject()), $"{Url} (study '{identity.Name}')");
                    return 0;
                }
            }
            using var insert = Command(conn, "INSERT INTO ctb_studies (name, identity, inputs_hash) VALUES (@name, @identity, @hash)",
                ("name", identity.Name), ("identity", Json(TrialJson.WriteIdentity(identity))), ("hash", identity.InputsHash));
            insert.ExecuteNonQuery();
            tx.Commit();
            return 0;
        });
    }

    public FrozenTrial? Claim(string study, ProcessOwner worker, Func<IReadOnlyList<FrozenTrial>, TrialProposal?> propose) =>
        Execute(conn =>
        {
            using var tx = conn.BeginTransaction();
            Lock(conn, study);
            var trials = ReadTrials(conn, study);
            if (trials.Count == 0) RequireStudy(conn, study);
            if (propose(trials) is not { } proposal) return null;
            int number = trials.Count == 0 ? 0 : trials[^1].Number + 1;
            // The claim's start is the server's clock (the transaction's now()), like every other time this storage keeps.
            DateTimeOffset start;
            using (var clock = Command(conn, "SELECT now()"))
            using (var reader = clock.ExecuteReader())
            {
                reader.Read();
                start = reader.GetFieldValue<DateTimeOffset>(0);
            }
            var trial = new FrozenTrial(number, proposal.Params, TrialState.Running, null, new Dictionary<string, double>(), null, null,
                start, null) { Worker = worker.ToString(), RetryOf = proposal.RetryOf };
            using var insert = Command(conn,
                "INSERT INTO ctb_trials (study, number, state, claim, owner, claimed, heartbeat) VALUES (@study, @number, 'Running', @claim, @owner, now(), now())",
                ("study", study), ("number", number), ("claim", Json(TrialJson.WriteClaim(trial))), ("owner", Json(TrialJson.WriteOwner(worker))));
            insert.ExecuteNonQuery();
            tx.Commit();
            return trial;
        });

    public void Heartbeat(string study, int number) => Execute(conn =>
    {
        using var cmd = Command(conn, "UPDATE ctb_trials SET heartbeat = now() WHERE study = @study AND number = @number AND state = 'Running'",
            ("study", study), ("number", number));
        if (cmd.ExecuteNonQuery() == 0) RequireTrial(conn, study, number);
        return 0;
    });

    public void ReportIntermediate(string study, int number, int step, double value) => Execute(conn =>
    {
        using var cmd = Command(conn,
            "UPDATE ctb_trials SET intermediate = intermediate || jsonb_build_object(@step, @value) " +
            "WHERE study = @study AND number = @number AND state = 'Running' AND NOT intermediate ? @step",
            ("step", step.ToString(CultureInfo.InvariantCulture)), ("value", value.ToString("R", CultureInfo.InvariantCulture)),
            ("study", study), ("number", number));
        if (cmd.ExecuteNonQuery() == 0) RequireTrial(conn, study, number);
        return 0;
    });

    public FrozenTrial Finish(string study, int number, TrialFinish finish)
    {
        finish.Validate();
        return Execute(conn =>
        {
            using (var cmd = Command(conn,
                       "UPDATE ctb_trials SET state = @state, finish = @finish WHERE study = @study AND number = @number AND state = 'Running'",
                       ("state", finish.State.ToString()), ("finish", Json(TrialJson.WriteFinish(finish))), ("study", study), ("number", number)))
                cmd.ExecuteNonQuery();
            return ReadTrials(conn, study, number).SingleOrDefault()
                   ?? throw new InvalidOperationException($"Study '{study}' at {Url} has no trial #{number}.");
        });
    }

    public IReadOnlyList<FrozenTrial> Trials(string study) => Execute(conn =>
    {
        // Read on every claim and by every sampler: the study's existence is checked only when there is nothing to read.
        var trials = ReadTrials(conn, study);
        if (trials.Count == 0) RequireStudy(conn, study);
        return trials;
    });

    public IReadOnlyList<FrozenTrial> FailStale(string study, TimeSpan heartbeatTimeout) => Execute(conn =>
    {
        var running = new List<(FrozenTrial Trial, ProcessOwner? Owner, TimeSpan Silent, DateTime Heartbeat, DateTimeOffset Now)>();
        using (var cmd = Command(conn,
                   "SELECT claim::text, owner::text, intermediate::text, EXTRACT(EPOCH FROM now() - heartbeat)::float8, heartbeat, now() " +
                   "FROM ctb_trials WHERE study = @study AND state = 'Running' ORDER BY number", ("study", study)))
        using (var reader = cmd.ExecuteReader())
            while (reader.Read())
            {
                var trial = WithIntermediate(TrialJson.ReadClaim(JsonNode.Parse(reader.GetString(0))!.AsObject()), reader.GetString(2));
                running.Add((trial, reader.IsDBNull(1) ? null : TrialJson.ReadOwner(JsonNode.Parse(reader.GetString(1))!.AsObject()), TimeSpan.FromSeconds(reader.GetDouble(3)),
                    reader.GetDateTime(4), reader.GetFieldValue<DateTimeOffset>(5)));
            }

        var failed = new List<FrozenTrial>();
        foreach (var (trial, owner, silent, heartbeat, now) in running)
        {
            if (TrialFinish.Abandoned(trial, owner?.IsGone() == true, silent, heartbeatTimeout, now) is not { } finish) continue;
            // Only if the trial is still running and no heartbeat came since it was judged: a slow worker is not failed.
            using var update = Command(conn,
                "UPDATE ctb_trials SET state = 'Failed', finish = @finish WHERE study = @study AND number = @number AND state = 'Running' AND heartbeat = @heartbeat",
                ("finish", Json(TrialJson.WriteFinish(finish))), ("study", study), ("number", trial.Number), ("heartbeat", heartbeat));
            if (update.ExecuteNonQuery() == 1) failed.Add(TrialJson.Apply(trial, finish));
        }
        return failed;
    });

    /// <summary>Deletes a study and its trials (for <c>ctb tune worker --reset</c>-like tools and tests).</summary>
    public bool DeleteStudy(string study) => Execute(conn =>
    {
        using var cmd = Command(conn, "DELETE FROM ctb_studies WHERE name = @name", ("name", study));
        return cmd.ExecuteNonQuery() > 0;
    });

    public void Dispose() => _source.Dispose();

    private bool EnsureSchema()
    {
        Execute(conn =>
        {
            using var tx = conn.BeginTransaction();
            // Workers starting together must not race on CREATE TABLE IF NOT EXISTS (it is not atomic in PostgreSQL).
            using (var lockCmd = Command(conn, "SELECT pg_advisory_xact_lock(7447158361)")) lockCmd.ExecuteNonQuery();
            using (var create = Command(conn, """
                CREATE TABLE IF NOT EXISTS ctb_meta (key text PRIMARY KEY, value text NOT NULL);
                INSERT INTO ctb_meta (key, value) VALUES ('schema_version', @version) ON CONFLICT (key) DO NOTHING;
                """, ("version", SchemaVersion.ToString(CultureInfo.InvariantCulture))))
                create.ExecuteNonQuery();
            using (var version = Command(conn, "SELECT value FROM ctb_meta WHERE key = 'schema_version'"))
            {
                var stored = int.Parse((string)version.ExecuteScalar()!, CultureInfo.InvariantCulture);
                if (stored > SchemaVersion)
                    throw new CtBuildException($"The study database {Url} has schema version {stored}, set up by a newer CtBuild (this one knows {SchemaVersion}). " +
                                               "Update ctb on this machine to the version the other workers run. Nothing was written.", 2);
            }
            using (var tables = Command(conn, """
                CREATE TABLE IF NOT EXISTS ctb_studies (
                    name text PRIMARY KEY,
                    identity jsonb NOT NULL,
                    inputs_hash text NOT NULL,
                    created timestamptz NOT NULL DEFAULT now());
                CREATE TABLE IF NOT EXISTS ctb_trials (
                    study text NOT NULL REFERENCES ctb_studies (name) ON DELETE CASCADE,
                    number integer NOT NULL,
                    state text NOT NULL,
                    claim jsonb NOT NULL,
                    owner jsonb,
                    finish jsonb,
                    intermediate jsonb NOT NULL DEFAULT '{}'::jsonb,
                    claimed timestamptz NOT NULL DEFAULT now(),
                    heartbeat timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (study, number));
                """))
                tables.ExecuteNonQuery();
            tx.Commit();
            return 0;
        });
        return true;
    }

    private IReadOnlyList<FrozenTrial> ReadTrials(NpgsqlConnection conn, string study, int? only = null)
    {
        // A finished trial never changes, so it is parsed once per process; only running and new trials are read again.
        var cached = _finished.Keys.Where(k => k.Study == study).Select(k => k.Number).ToArray();
        var sql = "SELECT number, claim::text, finish::text, intermediate::text FROM ctb_trials WHERE study = @study " +
                  (only is null ? "AND NOT (number = ANY(@cached)) " : "AND number = @only ") + "ORDER BY number";
        using var cmd = Command(conn, sql, ("study", study));
        if (only is null) cmd.Parameters.Add(new NpgsqlParameter("cached", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = cached });
        else cmd.Parameters.AddWithValue("only", only.Value);
        var fresh = new List<FrozenTrial>();
        using (var reader = cmd.ExecuteReader())
            while (reader.Read())
            {
                var trial = WithIntermediate(TrialJson.ReadClaim(JsonNode.Parse(reader.GetString(1))!.AsObject()), reader.GetString(3));
                if (!reader.IsDBNull(2))
                {
                    trial = TrialJson.Apply(trial, TrialJson.ReadFinish(JsonNode.Parse(reader.GetString(2))!.AsObject()));
                    _finished.TryAdd((study, trial.Number), trial);
                }
                fresh.Add(trial);
            }
        if (only is not null) return fresh;
        return fresh.Concat(cached.Select(n => _finished[(study, n)])).OrderBy(t => t.Number).ToArray();
    }

    private static FrozenTrial WithIntermediate(FrozenTrial trial, string json)
    {
        var steps = JsonNode.Parse(json)!.AsObject();
        if (steps.Count == 0) return trial;
        return trial with
        {
            Intermediate = steps.ToDictionary(s => int.Parse(s.Key, CultureInfo.InvariantCulture),
                s => double.Parse(s.Value!.GetValue<string>(), CultureInfo.InvariantCulture)),
        };
    }

    private void RequireStudy(NpgsqlConnection conn, string study)
    {
        using var cmd = Command(conn, "SELECT 1 FROM ctb_studies WHERE name = @name", ("name", study));
        if (cmd.ExecuteScalar() is null) throw new InvalidOperationException($"No study '{study}' at {Url}; call CreateOrJoin first.");
    }

    private void RequireTrial(NpgsqlConnection conn, string study, int number)
    {
        using var cmd = Command(conn, "SELECT 1 FROM ctb_trials WHERE study = @study AND number = @number", ("study", study), ("number", number));
        if (cmd.ExecuteScalar() is null) throw new InvalidOperationException($"Study '{study}' at {Url} has no trial #{number}.");
    }

    private static void Lock(NpgsqlConnection conn, string study)
    {
        using var cmd = Command(conn, "SELECT pg_advisory_xact_lock(hashtextextended('ctb-study:' || @study, 0))", ("study", study));
        cmd.ExecuteNonQuery();
    }

    private static string Json(JsonNode node) => node.ToJsonString();

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, params (string Name, object Value)[] parameters)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        foreach (var (name, value) in parameters)
        {
            var p = cmd.Parameters.AddWithValue(name, value);
            if (name is "claim" or "owner" or "finish" or "identity") p.NpgsqlDbType = NpgsqlDbType.Jsonb;
        }
        return cmd;
    }

    /// <summary>Runs <paramref name="work"/> on a pooled connection and turns connection faults into errors a user can act on.</summary>
    private T Execute<T>(Func<NpgsqlConnection, T> work)
    {
        try
        {
            using var conn = _source.OpenConnection();
            return work(conn);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            throw new CtBuildException($"PostgreSQL at {Url} refused the login of user '{Url.User}': {e.MessageText}. " +
                                       "Set the password in PGPASSWORD or ~/.pgpass (never in ctbuild.json), or check the user.", 2, e);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new CtBuildException($"PostgreSQL at {Url} has no database '{Url.Database}': create it (createdb {Url.Database}) or fix tune.storage.", 2, e);
        }
        catch (NpgsqlException e) when (e.InnerException is SocketException or TimeoutException || e is { IsTransient: true, InnerException: not PostgresException })
        {
            throw new CtBuildException($"Cannot reach PostgreSQL at {Url}: {e.InnerException?.Message ?? e.Message}. " +
                                       "Check the host and port in tune.storage (or CTB_TUNE_STORAGE) and that the server is running.", 2, e);
        }
    }
}
