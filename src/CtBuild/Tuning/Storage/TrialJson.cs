using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CtBuild.Tuning;

/// <summary>
/// The JSON forms a storage keeps: parameters with their types (an int stays an int, 1.0 stays a double), trial
/// claims and finishes, and study identities. Every backend uses these, so a study reads the same from any of them.
/// </summary>
public static class TrialJson
{
    /// <summary><c>{"x": {"d": 0.5}, "n": {"i": 5}, "trainer": {"s": "LightGbm"}, "flag": {"b": true}}</c></summary>
    public static JsonObject WriteParams(IReadOnlyDictionary<string, object> parameters)
    {
        var json = new JsonObject();
        foreach (var (name, value) in parameters)
            json[name] = value switch
            {
                int i => new JsonObject { ["i"] = i },
                double d => new JsonObject { ["d"] = d.ToString("R", CultureInfo.InvariantCulture) },
                string s => new JsonObject { ["s"] = s },
                bool b => new JsonObject { ["b"] = b },
                _ => throw new ArgumentException($"Parameter '{name}' has a value of type {value?.GetType().Name ?? "null"}; only int, double, string and bool are stored."),
            };
        return json;
    }

    public static IReadOnlyDictionary<string, object> ReadParams(JsonObject json) =>
        json.ToDictionary(p => p.Key, p =>
        {
            var (tag, value) = p.Value!.AsObject().Single();
            return tag switch
            {
                "i" => (object)value!.GetValue<int>(),
                "d" => double.Parse(value!.GetValue<string>(), CultureInfo.InvariantCulture),
                "s" => value!.GetValue<string>(),
                "b" => value!.GetValue<bool>(),
                _ => throw new FormatException($"Unknown parameter type tag '{tag}' for '{p.Key}'."),
            };
        });

    /// <summary>The claim of a trial: number, parameters, start, worker and what it retries.</summary>
    public static JsonObject WriteClaim(FrozenTrial trial) => new()
    {
        ["number"] = trial.Number,
        ["params"] = WriteParams(trial.Params),
        ["start"] = trial.Start.ToString("O", CultureInfo.InvariantCulture),
        ["worker"] = trial.Worker,
        ["retryOf"] = trial.RetryOf,
    };

    /// <summary>A Running trial from its claim.</summary>
    public static FrozenTrial ReadClaim(JsonObject json) =>
        new(json["number"]!.GetValue<int>(), ReadParams(json["params"]!.AsObject()), TrialState.Running, null,
            new Dictionary<string, double>(), null, null,
            DateTimeOffset.Parse(json["start"]!.GetValue<string>(), CultureInfo.InvariantCulture), null)
        {
            Worker = json["worker"]?.GetValue<string>(),
            RetryOf = json["retryOf"]?.GetValue<int>(),
        };

    /// <summary>Doubles go as strings in "R" format so NaN, ∞ and every bit of a value survive.</summary>
    public static JsonObject WriteFinish(TrialFinish finish) => new()
    {
        ["state"] = finish.State.ToString(),
        ["value"] = finish.Value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : null,
        ["metrics"] = new JsonObject(finish.Metrics.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value.ToString("R", CultureInfo.InvariantCulture)))),
        ["error"] = finish.Error,
        ["durationSeconds"] = finish.Duration.TotalSeconds.ToString("R", CultureInfo.InvariantCulture),
        ["cost"] = finish.Cost is { } c ? c.ToString("R", CultureInfo.InvariantCulture) : null,
    };

    public static TrialFinish ReadFinish(JsonObject json) => new(
        Enum.Parse<TrialState>(json["state"]!.GetValue<string>()),
        Number(json["value"]),
        json["metrics"]!.AsObject().ToDictionary(m => m.Key, m => Number(m.Value)!.Value),
        json["error"]?.GetValue<string>(),
        TimeSpan.FromSeconds(Number(json["durationSeconds"])!.Value),
        Number(json["cost"]));

    /// <summary>A claimed trial with its finish applied.</summary>
    public static FrozenTrial Apply(FrozenTrial claimed, TrialFinish finish) => claimed with
    {
        State = finish.State,
        Value = finish.Value,
        Metrics = finish.Metrics,
        Error = finish.Error,
        Duration = finish.Duration,
        Cost = finish.Cost ?? finish.Duration.TotalSeconds,
    };

    /// <summary>The process that claimed a trial, so a stale-fail can tell a dead worker on this host from a live one.</summary>
    public static JsonObject WriteOwner(CtBuild.Tracking.ProcessOwner owner) => new()
    {
        ["pid"] = owner.ProcessId, ["host"] = owner.Host, ["processStart"] = owner.ProcessStart.ToString("O", CultureInfo.InvariantCulture),
    };

    public static CtBuild.Tracking.ProcessOwner ReadOwner(JsonObject json) => new(json["pid"]!.GetValue<int>(), json["host"]!.GetValue<string>(),
        DateTimeOffset.Parse(json["processStart"]!.GetValue<string>(), CultureInfo.InvariantCulture));

    public static JsonObject WriteIdentity(StudyIdentity identity) => new()
    {
        ["name"] = identity.Name,
        ["direction"] = identity.Direction.ToString(),
        ["inputsHash"] = identity.InputsHash,
        ["inputs"] = new JsonObject(identity.Inputs.Select(i => KeyValuePair.Create(i.Key, (JsonNode?)i.Value))),
    };

    public static StudyIdentity ReadIdentity(JsonObject json) => new(json["name"]!.GetValue<string>(),
        Enum.Parse<StudyDirection>(json["direction"]!.GetValue<string>()),
        json["inputs"]!.AsObject().ToDictionary(i => i.Key, i => i.Value!.GetValue<string>()));

    public static byte[] ToBytes(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node);

    public static JsonObject Parse(ReadOnlySpan<byte> bytes) => JsonNode.Parse(bytes)?.AsObject()
        ?? throw new FormatException("Expected a JSON object.");

    private static double? Number(JsonNode? node) => node is null ? null : double.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture);
}
