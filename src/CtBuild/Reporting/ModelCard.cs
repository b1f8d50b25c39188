namespace CtBuild.Reporting;

/// <summary>What the candidate model is and where it came from.</summary>
/// <param name="InputSignature">The input schema as text, e.g. "age: Single, workclass: String, …".</param>
/// <param name="FeatureImportance">Empty when the trainer gives none.</param>
public sealed record ModelCard(
    string Trainer,
    IReadOnlyDictionary<string, object> Hyperparameters,
    IReadOnlyList<FeatureInfo> Features,
    string InputSignature,
    Lineage Lineage,
    IReadOnlyList<FeatureImportance> FeatureImportance);

/// <summary>A model input feature and its type.</summary>
public sealed record FeatureInfo(string Name, string Type);

/// <summary>Where the model came from.</summary>
/// <param name="GitDirty">True when the working tree had uncommitted changes.</param>
public sealed record Lineage(IReadOnlyList<TableVersionUsed> DataVersions, string RunId, string GitCommit, bool GitDirty);

/// <summary>A feature's importance (e.g. permutation importance or gain).</summary>
public sealed record FeatureImportance(string Name, double Value);
