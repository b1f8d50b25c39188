using System.Collections.Concurrent;
using CtBuild.Configuration;
using CtBuild.Registry;
using CtBuild.Training;
using Microsoft.ML;

namespace CtBuild.Serving;

/// <summary>
/// A registered model version loaded for scoring, from bytes checked against the registry's sha256.
/// Immutable: a server swaps one instance for another, so a request scores with the model it started with.
/// </summary>
public sealed class ServedModel
{
    ServedModel(string name, ModelVersion record, string sha256, ITransformer transformer, FeatureSignature signature)
    {
        Name = name;
        Record = record;
        Sha256 = sha256;
        Transformer = transformer;
        Signature = signature;
    }

    public string Name { get; }
    public ModelVersion Record { get; }
    public int Version => Record.Version;
    /// <summary>The sha256 of model.zip, as recorded and as verified at load.</summary>
    public string Sha256 { get; }
    public ITransformer Transformer { get; }
    public FeatureSignature Signature { get; }

    /// <summary>The version <paramref name="reference"/> points to now (without loading it).</summary>
    public static int ResolveVersion(ModelRegistry registry, ModelReference reference)
    {
        if (reference.Version is { } v) return registry.GetVersion(reference.Name, v).Version;
        var version = registry.ResolveAlias(reference.Name, reference.Alias!)
            ?? throw new RegistryException(
                $"Model '{reference.Name}' has no alias '{reference.Alias}'" +
                (reference.Alias == ModelRegistry.ChampionAlias ? ": nothing has been promoted yet. Run `dotnet cake --target=Promote` (or `ctb run`) first." : $". Set it, or name a version: {reference.Name}:N."));
        return version.Version;
    }

    /// <summary>
    /// Resolves <paramref name="reference"/>, verifies every artifact of the version against its recorded sha256
    /// and loads the model from the verified bytes.
    /// </summary>
    /// <exception cref="RegistryIntegrityException">A file differs from the record; nothing is loaded.</exception>
    public static ServedModel Load(Workspace ws, ModelReference reference) => Load(ws, reference.Name, ResolveVersion(ModelRegistry.Open(ws.RegistryRoot), reference));

    public static ServedModel Load(Workspace ws, string name, int version)
    {
        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var record = registry.GetVersion(name, version);
        registry.VerifyArtifacts(name, version);
        using var stream = registry.OpenModelFile(name, version, CandidateModel.ModelFile);
        var transformer = new MLContext(1).Model.Load(stream, out _);
        var sha = record.Artifacts.First(a => a.Name == CandidateModel.ModelFile).Sha256;
        var signature = FeatureSignature.FromColumns(record.InputSignature.Select(c => (c.Name, c.Type)), ws.Config.Features.Label);
        return new ServedModel(name, record, sha, transformer, signature);
    }

    /// <summary>
    /// Up to this many rows (any server request of a sensible size) are scored by pooled PredictionEngines; more (a chunk
    /// of <c>ctb predict</c>) go through one data view. A data view built per call compiles its row mappings each time,
    /// which cost a 1,000-record request more CPU than scoring it.
    /// </summary>
    public const int EngineRows = 10_000;

    readonly ConcurrentBag<PredictionEngine<ModelInputRow, ScoredRow>> _engines = [];

    /// <summary>
    /// Scores rows with the model, as Evaluate does (<see cref="ModelScoring.Score"/>). Rows of a server request
    /// go through a pooled <see cref="PredictionEngine{TSrc,TDst}"/> instead: building a data view and its cursors
    /// per call costs more than scoring them; the transformer and so the scores are the same.
    /// </summary>
    public double[] Score(IReadOnlyList<ModelInputRow> rows)
    {
        if (rows.Count == 0) return [];
        if (rows.Count > EngineRows) return ModelScoring.Score(Transformer, new ModelInput(rows, Signature));
        var engine = _engines.TryTake(out var e) ? e : CreateEngine();
        try { return rows.Select(r => (double)engine.Predict(r).Probability).ToArray(); }
        finally { _engines.Add(engine); }
    }

    /// <summary>A PredictionEngine over this model (not thread-safe: one caller at a time).</summary>
    public PredictionEngine<ModelInputRow, ScoredRow> CreateEngine() =>
        new MLContext(1).Model.CreatePredictionEngine<ModelInputRow, ScoredRow>(Transformer, inputSchemaDefinition: ModelInput.SchemaOf(Signature));

    /// <summary>The model's output that scoring reads.</summary>
    public sealed class ScoredRow { public float Probability { get; set; } }

    public override string ToString() => $"{Name} v{Version}";
}
