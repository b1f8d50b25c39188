namespace CtBuild.Configuration;

/// <summary>A config value that parsed but makes no sense, with its dotted key path.</summary>
public sealed record ConfigError(string Path, string Message);

/// <summary>Checks the meaning of a parsed config: ranges, references between sections, known words.</summary>
public static class ConfigValidator
{
    static readonly string[] ColumnTypes = ["string", "int", "double", "bool"];

    public static IReadOnlyList<ConfigError> Validate(PipelineConfig c)
    {
        var errors = new List<ConfigError>();
        void Check(bool ok, string path, string message) { if (!ok) errors.Add(new ConfigError(path, message)); }

        Check(System.Text.RegularExpressions.Regex.IsMatch(c.Name, "^[a-z0-9][a-z0-9._-]*$"), "name",
            $"'{c.Name}' is not a valid model name: use lower-case letters, digits, '.', '_' and '-'.");
        foreach (var (col, contract) in c.Ingest.Columns)
        {
            var p = $"ingest.columns.{col}";
            Check(ColumnTypes.Contains(contract.Type), $"{p}.type", $"unknown type '{contract.Type}'; use one of {string.Join(", ", ColumnTypes)}.");
            Check(contract.Values is null || contract.Type == "string", $"{p}.values", "allowed values apply to string columns only; use min/max for numbers.");
            Check(contract.Min is null && contract.Max is null || contract.Type is "int" or "double", $"{p}.min", "min/max apply to int and double columns only.");
            Check(contract.Min is not { } lo || contract.Max is not { } hi || lo <= hi, $"{p}.min", $"min {contract.Min} is greater than max {contract.Max}.");
        }
        Check(c.Ingest.Columns.Count > 0, "ingest.columns", "declare at least one column.");
        Check(c.Ingest.Columns.ContainsKey(c.Ingest.Label.Column), "ingest.label.column",
            $"label column '{c.Ingest.Label.Column}' is not declared in ingest.columns.");
        Check(c.Ingest.Label.Values.Count >= 2, "ingest.label.values", "a binary label needs at least two values.");
        Check(c.Ingest.Label.Values.Contains(c.Ingest.Label.Positive), "ingest.label.positive",
            $"positive value '{c.Ingest.Label.Positive}' is not one of the label values [{string.Join(", ", c.Ingest.Label.Values)}].");
        Check(c.Ingest.Key is null || c.Ingest.Columns.ContainsKey(c.Ingest.Key), "ingest.key", $"key column '{c.Ingest.Key}' is not declared in ingest.columns.");
        Check(c.Ingest.MaxBadFraction is >= 0 and <= 1, "ingest.maxBadFraction", "must be between 0 and 1.");
        Check(c.Ingest.SchemaDrift is "fail" or "dropExtra", "ingest.schemaDrift", $"'{c.Ingest.SchemaDrift}' is not a policy; use \"fail\" or \"dropExtra\".");
        for (var i = 0; i < c.Ingest.Sources.Count; i++)
            Check(SourceError(c.Ingest.Sources[i]) is null, $"ingest.sources[{i}]", SourceError(c.Ingest.Sources[i]) ?? "");
        Check(!string.IsNullOrWhiteSpace(c.Features.Sql), "features.sql", "name the features SQL file.");

        var s = c.Split;
        Check(s.Train > 0 && s.Valid > 0 && s.Test > 0, "split", "train, valid and test ratios must all be positive.");
        Check(Math.Abs(s.Train + s.Valid + s.Test - 1) < 1e-9, "split", $"ratios must add up to 1 (they add up to {(s.Train + s.Valid + s.Test).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}).");

        Check(s.BalanceCheck is "warn" or "fail" or "off", "split.balanceCheck", $"'{s.BalanceCheck}' is not a policy; use \"warn\", \"fail\" or \"off\".");

        var t = c.Tune;
        Check(t.Sampler is "tpe" or "random", "tune.sampler", $"unknown sampler '{t.Sampler}'; use \"tpe\" or \"random\".");
        Check(t.MaxEvals >= 1, "tune.maxEvals", "must be at least 1.");
        Check(t.Parallelism >= 0, "tune.parallelism", "must be 0 (one per core) or more.");
        Check(t.TimeBudget is null || Durations.TryParse(t.TimeBudget, out _), "tune.timeBudget", $"'{t.TimeBudget}' is not a duration like 90s, 10m or 1h.");
        Check(t.TrialTimeout is "auto" or "none" || Durations.TryParse(t.TrialTimeout, out _), "tune.trialTimeout", $"'{t.TrialTimeout}' is not \"auto\", \"none\" or a duration like 90s, 10m or 1h.");
        Check(Tuning.SuccessiveHalving.Check(t.Fidelity) is null, "tune.fidelity", Tuning.SuccessiveHalving.Check(t.Fidelity) ?? "");
        Check(Durations.TryParse(t.HeartbeatTimeout, out var heartbeat) && heartbeat >= TimeSpan.FromSeconds(2), "tune.heartbeatTimeout",
            $"'{t.HeartbeatTimeout}' must be a duration of at least 2s, like 60s or 2m.");
        Check(t.EarlyStopping is null || t.EarlyStopping.Patience >= 1, "tune.earlyStopping.patience", "must be at least 1.");
        Check(t.Space.ValueKind == System.Text.Json.JsonValueKind.Object, "tune.space", "the search space must be an object.");

        errors.AddRange(c.Evaluate.Errors().Select(e => new ConfigError($"evaluate.{e.Key}", e.Message)));
        Check(Durations.TryParse(c.Lock.Wait, out _), "lock.wait", $"'{c.Lock.Wait}' is not a duration like 0s, 30s or 10m.");
        Check(c.Lake.CheckpointInterval >= 0, "lake.checkpointInterval", "must be 0 (no checkpoints) or more.");
        Check(ByteSizes.TryParse(c.Lake.TargetFileSize, out var target) && target > 0, "lake.targetFileSize", $"'{c.Lake.TargetFileSize}' is not a size like 64MB or 1GB.");
        Check(Durations.TryParse(c.Lake.Retain, out _), "lake.retain", $"'{c.Lake.Retain}' is not a duration like 7d or 24h.");
        foreach (var env in c.Environments.Keys)
            Check(System.Text.RegularExpressions.Regex.IsMatch(env, "^[a-z][a-z0-9-]*$"), $"environments.{env}", "environment names use lower-case letters, digits and '-'.");
        return errors;
    }

    /// <summary>Why an <c>ingest.sources</c> entry is not a container URL without secrets, or null.</summary>
    static string? SourceError(string source)
    {
        try { Blobs.BlobLocation.Parse(source); return null; }
        catch (ConfigException ex) { return ex.Message; }
    }
}

/// <summary>Durations written as <c>90s</c>, <c>10m</c>, <c>1h</c>, <c>1h30m</c> or <c>7d</c>.</summary>
public static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var m = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$");
        if (!m.Success || text.Trim().Length == 0) return false;
        value = TimeSpan.FromDays(m.Groups[1].Success ? int.Parse(m.Groups[1].Value) : 0)
              + TimeSpan.FromHours(m.Groups[2].Success ? int.Parse(m.Groups[2].Value) : 0)
              + TimeSpan.FromMinutes(m.Groups[3].Success ? int.Parse(m.Groups[3].Value) : 0)
              + TimeSpan.FromSeconds(m.Groups[4].Success ? double.Parse(m.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
        return true;
    }

    public static TimeSpan Parse(string text) => TryParse(text, out var v) ? v : throw new ConfigException($"'{text}' is not a duration like 90s, 10m or 1h.");
}
