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

    /// <summary>Scores rows with the same code path as Evaluate (<see cref="ModelScoring.Score"/>).</summary>
    public double[] Score(IReadOnlyList<ModelInputRow> rows) =>
        rows.Count == 0 ? [] : ModelScoring.Score(Transformer, new ModelInput(rows, Signature));

    public override string ToString() => $"{Name} v{Version}";
}
