using System.Text.Json;
using System.Text.Json.Serialization;
using CtBuild.Evaluation;

namespace CtBuild.Configuration;

/// <summary>
/// The declarative pipeline config (<c>ctbuild.json</c>). Every section is an immutable record; unknown
/// keys and wrong types are refused by <see cref="ConfigLoader"/> with the key's path and line.
/// </summary>
public sealed record PipelineConfig
{
    /// <summary>The JSON Schema editors check the file against (<c>ctb schema</c>); ignored by the pipeline.</summary>
    [JsonPropertyName("$schema")] public string? Schema { get; init; }
    /// <summary>The registered model's name, e.g. <c>adult-income</c>.</summary>
    [JsonRequired] public string Name { get; init; } = "";
    public string? Description { get; init; }
    public PathsConfig Paths { get; init; } = new();
    /// <summary>Named environments (e.g. dev, prod), each overriding the paths of the workspace.</summary>
    public IReadOnlyDictionary<string, PathsConfig> Environments { get; init; } = new Dictionary<string, PathsConfig>();
    [JsonRequired] public IngestConfig Ingest { get; init; } = new();
    [JsonRequired] public FeaturesConfig Features { get; init; } = new();
    public SplitConfig Split { get; init; } = new();
    [JsonRequired] public TuneConfig Tune { get; init; } = new();
    /// <summary>The gate: its options, defaults and validation are <see cref="GateOptions"/>.</summary>
    public GateOptions Evaluate { get; init; } = new();
    public ReportConfig Report { get; init; } = new();
    public PromoteConfig Promote { get; init; } = new();
    public LockConfig Lock { get; init; } = new();
    public LakeConfig Lake { get; init; } = new();
}

/// <summary>How lake tables stay fast to open and small in number (README "The lake").</summary>
public sealed record LakeConfig
{
    /// <summary>A Delta checkpoint after every N-th commit (0: none); a table's <c>delta.checkpointInterval</c> wins.</summary>
    public int CheckpointInterval { get; init; } = 10;
    /// <summary>Size <c>ctb lake optimize</c> packs small files up to, e.g. <c>128MB</c>.</summary>
    public string TargetFileSize { get; init; } = "128MB";
    /// <summary>Default retention of <c>ctb lake vacuum</c>, e.g. <c>7d</c>.</summary>
    public string Retain { get; init; } = "7d";
}

/// <summary>Where the workspace keeps its files, relative to the config file.</summary>
public sealed record PathsConfig
{
    public string Raw { get; init; } = "data/raw";
    public string Lake { get; init; } = "data/lake";
    public string State { get; init; } = ".ctb";
    public string Reports { get; init; } = "reports";
    public string Models { get; init; } = "models";
}

public sealed record IngestConfig
{
    /// <summary>The data contract: one entry per column, in any order.</summary>
    [JsonRequired] public IReadOnlyDictionary<string, ColumnContract> Columns { get; init; } = new Dictionary<string, ColumnContract>();
    [JsonRequired] public LabelContract Label { get; init; } = new();
    /// <summary>A column that identifies a row; used by Split when set.</summary>
    public string? Key { get; init; }
    /// <summary>Strings that mean "missing" in every column (a column may add its own).</summary>
    public IReadOnlyList<string> MissingValues { get; init; } = ["", "NA", "?"];
    /// <summary>Fail the stage when more than this fraction of a file's rows is quarantined.</summary>
    public double MaxBadFraction { get; init; } = 0.05;
    /// <summary><c>fail</c>: a file with missing or extra columns fails the stage; <c>dropExtra</c>:
    /// extra columns are dropped (and recorded), missing nullable columns become null.</summary>
    public string SchemaDrift { get; init; } = "fail";
    /// <summary>File patterns read from the raw folder.</summary>
    public IReadOnlyList<string> Patterns { get; init; } = ["*.csv", "*.csv.gz", "*.parquet", "*.jsonl", "*.ndjson"];
    /// <summary>Container prefixes read besides the raw folder, <c>az://&lt;account&gt;/&lt;container&gt;/&lt;prefix&gt;</c>;
    /// credentials come from the environment, never from here.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];
}

public sealed record ColumnContract
{
    /// <summary><c>string</c>, <c>int</c>, <c>double</c> or <c>bool</c>.</summary>
    [JsonRequired] public string Type { get; init; } = "";
    public bool Nullable { get; init; } = true;
    /// <summary>Allowed values (strings only).</summary>
    public IReadOnlyList<string>? Values { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    public IReadOnlyList<string>? MissingValues { get; init; }
}

public sealed record LabelContract
{
    [JsonRequired] public string Column { get; init; } = "";
    [JsonRequired] public string Positive { get; init; } = "";
    /// <summary>Every value the label may take; anything else is quarantined.</summary>
    [JsonRequired] public IReadOnlyList<string> Values { get; init; } = [];
}

public sealed record FeaturesConfig
{
    /// <summary>DuckDB SQL file, relative to the config; it selects from the view <c>raw</c>.</summary>
    [JsonRequired] public string Sql { get; init; } = "";
    /// <summary>The boolean label column the SQL outputs.</summary>
    public string Label { get; init; } = "label";
    /// <summary>Columns the SQL outputs that are not features (keys, dates).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];
}

public sealed record SplitConfig
{
    /// <summary>Column hashed to assign a row its split. When absent: the row's identity (<c>_source_sha256</c> and
    /// <c>_source_line</c>, when the features carry them), else every column but the label; never the label.</summary>
    public string? Key { get; init; }
    public double Train { get; init; } = 0.7;
    public double Valid { get; init; } = 0.15;
    public double Test { get; init; } = 0.15;
    /// <summary>Salt of the hash: changing it reshuffles every row.</summary>
    public string Salt { get; init; } = "ctbuild";
    /// <summary><c>warn</c>, <c>fail</c> or <c>off</c>: what Split does when a split's positive rate differs from the
    /// others' by more than chance allows (two-proportion z-test, p &lt; 0.001 after Bonferroni).</summary>
    public string BalanceCheck { get; init; } = "warn";
}

public sealed record TuneConfig
{
    /// <summary><c>tpe</c> or <c>random</c>.</summary>
    public string Sampler { get; init; } = "tpe";
    public int MaxEvals { get; init; } = 30;
    /// <summary>Wall-clock budget like <c>10m</c>, <c>90s</c>, <c>1h</c>.</summary>
    public string? TimeBudget { get; init; }
    /// <summary>Trials run at once; 0 means one per core.</summary>
    public int Parallelism { get; init; } = 0;
    public int Seed { get; init; } = 42;
    public int StartupTrials { get; init; } = 10;
    /// <summary>
    /// The longest one trial may train: <c>auto</c> (5 × the median completed trial, at least 60 s, once 3 trials have
    /// completed), <c>none</c>, or a duration like <c>5m</c>. A trial past it is stopped and recorded as timed out.
    /// </summary>
    public string TrialTimeout { get; init; } = "auto";
    /// <summary>Multivariate TPE (the default, Optuna 5's): a trainer's parameters are drawn jointly; false: Optuna 3.1's univariate TPE (see README "Tuning").</summary>
    public bool Multivariate { get; init; } = true;
    public EarlyStoppingConfig? EarlyStopping { get; init; }
    /// <summary>
    /// Successive halving: <c>auto</c> (on from 500,000 training rows), <c>on</c>, <c>off</c>, or rungs like
    /// <c>1/27, 1/9, 1/3, 1</c> (shares of the training rows, the last 1). See README "Tuning".
    /// </summary>
    public string Fidelity { get; init; } = "auto";
    /// <summary>Try each trainer first in a cheap configuration (few trees, leaves, iterations) before random trials.</summary>
    public bool CostAwareStart { get; init; } = true;
    /// <summary>
    /// TPE picks the trainer by expected improvement per second of training, the cost counting less as the budget is
    /// spent (see README "Tuning"). Off: the trainer is picked as Optuna's TPE picks a categorical.
    /// </summary>
    public bool CostAware { get; init; }
    /// <summary>
    /// The candidate is the chosen configuration trained once more on the train and valid rows together (the choice is
    /// made on valid alone; test stays unseen). False keeps the best trial's own model, trained on train only.
    /// </summary>
    public bool Refit { get; init; } = true;
    /// <summary>
    /// Where the study's trials live: unset = the state folder; a shared folder; or <c>postgresql://user@host:5432/db</c>
    /// for workers on many machines (<c>CTB_TUNE_STORAGE</c> overrides it, so a server URL can stay out of git).
    /// </summary>
    public string? Storage { get; init; }
    /// <summary>A running trial with no heartbeat for this long (e.g. <c>60s</c>) is failed and its parameters retried once.</summary>
    public string HeartbeatTimeout { get; init; } = "60s";
    /// <summary>The search space (see README "Search space").</summary>
    [JsonRequired] public JsonElement Space { get; init; }
}

public sealed record EarlyStoppingConfig
{
    /// <summary>Stop after this many finished trials without an improvement of at least <see cref="MinDelta"/>.</summary>
    public int Patience { get; init; } = 20;
    public double MinDelta { get; init; } = 0.0005;
}

public sealed record ReportConfig
{
    /// <summary>A folder of Scriban templates that override the embedded ones by file name.</summary>
    public string? Templates { get; init; }
}

public sealed record PromoteConfig
{
    /// <summary>Make the promotion commit (when the workspace is a git repository).</summary>
    public bool Commit { get; init; } = true;
    /// <summary>Also record rejected candidates in the registry's history, with a commit of their own.
    /// Off by default: keeping the champion then changes nothing in git.</summary>
    public bool RecordRejections { get; init; }
}

public sealed record LockConfig
{
    /// <summary>How long a second pipeline waits for the workspace lock, e.g. <c>0s</c> to fail at once.</summary>
    public string Wait { get; init; } = "10m";
}
