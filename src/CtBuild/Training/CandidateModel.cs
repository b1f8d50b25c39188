using CtBuild.Storage;

namespace CtBuild.Training;

/// <summary>
/// The tuned candidate, as Tune leaves it for Evaluate, Report and Promote: <c>candidate/model.zip</c>
/// plus this record in <c>candidate/candidate.json</c>.
/// </summary>
public sealed record CandidateModel(
    string TrialRunId,
    string TuningRunId,
    int TrialNumber,
    string Trainer,
    IReadOnlyDictionary<string, string> Params,
    double ValidAuc,
    double ValidLogLoss,
    long SplitsVersion,
    string SplitsDigest,
    FeatureSignature Signature,
    string ModelSha256,
    IReadOnlyList<FeatureImportance>? FeatureImportance,
    IReadOnlyList<TrialSummary> Trials,
    string Sampler,
    string StopReason,
    DateTimeOffset Created)
{
    /// <summary>The rows the candidate's trainer learnt from: <c>train</c> (the best trial's own model) or
    /// <c>train+valid</c> (its configuration trained once more on both, <c>tune.refit</c>).</summary>
    public string TrainedOn { get; init; } = "train";

    /// <summary>How many rows that was.</summary>
    public int TrainedRows { get; init; }

    public const string ModelFile = "model.zip";
    public const string RecordFile = "candidate.json";

    public static string ModelPath(string candidateDir) => Path.Combine(candidateDir, ModelFile);

    public static CandidateModel? Read(string candidateDir) => AtomicFile.ReadJson<CandidateModel>(Path.Combine(candidateDir, RecordFile));

    public void Write(string candidateDir) => AtomicFile.WriteJson(Path.Combine(candidateDir, RecordFile), this);
}

/// <summary>One tuning trial as the report shows it.</summary>
public sealed record TrialSummary(int Number, string RunId, string Trainer, IReadOnlyDictionary<string, string> Params,
    double? ValidAuc, double? ValidLogLoss, double Seconds, string State, string? Error)
{
    /// <summary>With successive halving, the rungs the trial ran, smallest first; null without it.</summary>
    public IReadOnlyList<RungSummary>? Rungs { get; init; }
}

/// <summary>One successive-halving rung of a trial: its share and count of training rows and the valid AUC reached.</summary>
public sealed record RungSummary(int Rung, double Fraction, int Rows, double ValidAuc);
