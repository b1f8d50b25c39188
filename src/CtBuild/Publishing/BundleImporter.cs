using CtBuild.Configuration;
using CtBuild.Evaluation;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Registry;
using CtBuild.Storage;
using CtBuild.Tracking;
using CtBuild.Training;
using AtomicFile = CtBuild.Storage.AtomicFile;

namespace CtBuild.Publishing;

/// <summary>How to import.</summary>
/// <param name="RequireSignature">Refuse a bundle that is not signed with <see cref="Key"/>.</param>
/// <param name="Key">HMAC key; a present signature is checked whenever a key is given.</param>
/// <param name="Commit">Make the promotion commit.</param>
/// <param name="Credentials">For a container URL; the standard environment variables when null.</param>
public sealed record ImportOptions(bool RequireSignature = false, byte[]? Key = null, bool Commit = true, Blobs.BlobCredentials? Credentials = null);

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ImportOutcome>))]
public enum ImportOutcome { Promoted, KeptChampion, Rejected, AlreadyImported }

/// <summary>What an import did; also kept in <c>&lt;state&gt;/imports/&lt;manifest sha256&gt;.json</c>.</summary>
/// <param name="Version">The version registered here (Promoted) or the champion kept (KeptChampion).</param>
/// <param name="RunId">The tracked run that scored the bundle on this environment's test split.</param>
public sealed record ImportResult(ImportOutcome Outcome, string BundleId, string ManifestSha256, string Model, string SourceEnvironment,
    int SourceVersion, int? Version, string Reason, string? RunId, string? CommitId, DateTimeOffset Time);

/// <summary>
/// Import: takes a published bundle into this environment. The bundle is verified and copied locally, its
/// input signature checked against this environment's features, the model scored on this environment's
/// own test split as a tracked run, and the same gate as Evaluate decides against this environment's
/// champion; a win is promoted through the registry with a promotion commit. A bundle already imported
/// (same manifest sha256) is not imported again.
/// </summary>
public static class BundleImporter
{
    /// <summary>The bundle manifest, kept with the imported version as provenance.</summary>
    public const string ManifestArtifact = "bundle-manifest.json";

    /// <summary>
    /// Imports the bundle at <paramref name="from"/>, or the newest bundle of this model under the shared folder
    /// or container URL <paramref name="from"/> (see <see cref="BundleStore"/>).
    /// </summary>
    public static ImportResult Import(Workspace ws, string from, ImportOptions options, IPipelineLog log)
    {
        var store = BundleStore.Open(from, options.Credentials);
        var importsDir = Path.Combine(ws.StateDir, "imports");
        var staging = Path.Combine(importsDir, $".staging-{Guid.NewGuid():N}");
        var download = Path.Combine(importsDir, $".download-{Guid.NewGuid():N}"); // a remote bundle's bytes, checked by Stage below
        try
        {
            var found = store.Fetch(ws.Config.Name, download);
            // Verified before the "already imported" check, so a damaged or badly signed bundle is always reported.
            var bundle = VerifiedBundle.Stage(found.Folder, staging, options.RequireSignature, options.Key, found.Location);
            if (AtomicFile.ReadJson<ImportResult>(RecordPath(importsDir, bundle.ManifestSha256)) is { } earlier)
            {
                log.Info($"import: bundle {earlier.BundleId} was imported on {earlier.Time:u} ({earlier.Outcome}); nothing to do");
                return earlier with { Outcome = ImportOutcome.AlreadyImported, Reason = $"already imported on {earlier.Time:u}: {earlier.Outcome}: {earlier.Reason}" };
            }
            if (!bundle.Signed) log.Info($"import: bundle {bundle.Id} is not signed (set {BundleSignature.KeyVariable} and pass --require-signature to insist)");
            var result = ImportVerified(ws, bundle, options, log);
            AtomicFile.WriteJson(RecordPath(importsDir, bundle.ManifestSha256), result);
            return result;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            if (Directory.Exists(download)) Directory.Delete(download, recursive: true);
            if (Directory.Exists(importsDir) && !Directory.EnumerateFileSystemEntries(importsDir).Any()) Directory.Delete(importsDir);
        }
    }

    static ImportResult ImportVerified(Workspace ws, VerifiedBundle bundle, ImportOptions options, IPipelineLog log)
    {
        var name = ws.Config.Name;
        var m = bundle.Manifest;
        if (m.Model != name)
            throw new BundleException($"Bundle {bundle.Id} holds model '{m.Model}' but this workspace's model is '{name}' ({ws.ConfigPath}). Import it into the workspace of '{m.Model}'.");
        var splits = LakeTables.Latest(ws, LakeTables.Splits, "split");
        var signature = ChampionComparison.SignatureOf(bundle.Source, ws.Config.Features.Label);
        var here = SplitRows.Signature(ws, splits);
        var mismatches = SignatureMismatches(signature, here, splits.Schema.Select(f => f.Name));
        if (mismatches.Count > 0)
            throw new BundleException($"Bundle {bundle.Id} ({m.Environment} v{m.Version}) does not fit the {ws.Environment} features (splits v{splits.Version}): " +
                                      $"{string.Join("; ", mismatches)}. Align the features SQL of both environments, rebuild, and publish again.");

        var origin = $"imported from {m.Environment} v{m.Version}";
        var modelSha = m.Files.Single(f => f.Path == CandidateModel.ModelFile).Sha256;
        if (ChampionComparison.Champion(ws) is ({ } current, { } currentSha) && currentSha == modelSha)
        {
            // The same model in another bundle (e.g. published again with a signature): scoring it against itself says nothing.
            log.Info($"import: {bundle.Id} ({origin}) holds the model that is already champion v{current} here; nothing to do");
            return new ImportResult(ImportOutcome.KeptChampion, bundle.Id, bundle.ManifestSha256, name, m.Environment, m.Version, current,
                $"its model.zip is already champion v{current} here", null, null, DateTimeOffset.UtcNow);
        }
        var modelPath = Path.Combine(bundle.StagedDir, CandidateModel.ModelFile);
        try { ModelScoring.Load(new Microsoft.ML.MLContext(1), modelPath); }
        catch (ModelLoadException ex)
        {
            throw new BundleException($"Bundle {bundle.Id} ({m.Environment} v{m.Version}): its {CandidateModel.ModelFile} matches the manifest but cannot be loaded " +
                                      $"as an ML.NET model ({ex.Cause}). It was damaged before it was published; publish the version again from {m.Environment}.");
        }
        var store = TrackingStore.Open(ws.TrackingDir);
        using var run = store.StartRun(name, $"import {bundle.Id}", codeVersion: Tracking.CodeVersion.Detect(ws.Root),
            tags: new Dictionary<string, string>
            {
                ["stage"] = "import", ["bundle"] = bundle.Id, ["bundle_manifest_sha256"] = bundle.ManifestSha256,
                ["source"] = $"{m.Environment} v{m.Version}", ["signed"] = bundle.Signed ? "yes" : "no",
            });
        run.LogInput(LakeTables.Splits, splits.Version, splits.CommitInfo?.ContentDigest ?? "");
        run.LogParams(bundle.Source.TrainerParams);
        var (decision, championVersion, _, _) = ChampionComparison.Score(ws, splits, modelPath, signature, log);
        run.SetTag("decision", decision.Outcome.ToString());
        ChampionComparison.LogDecision(run, decision);
        run.LogArtifact(ManifestArtifact, bundle.ManifestPath);
        run.End(RunStatus.Finished);
        log.Info($"import: {bundle.Id} ({origin}): {decision.Outcome}: {decision.Reason}");

        var registry = ModelRegistry.Open(ws.RegistryRoot);
        var numbers = DecisionSummary.Metrics(decision);
        if (!decision.Promote)
        {
            if (ws.Config.Promote.RecordRejections)
                registry.RecordRejected(name, $"bundle {bundle.Id} ({origin})", numbers, decision.Reason, options.Commit);
            return new ImportResult(decision.Outcome == GateOutcome.KeepChampion ? ImportOutcome.KeptChampion : ImportOutcome.Rejected,
                bundle.Id, bundle.ManifestSha256, name, m.Environment, m.Version, championVersion, decision.Reason, run.RunId, null, DateTimeOffset.UtcNow);
        }

        var artifacts = m.Files.Where(f => f.Path != BundlePublisher.VersionFile)
            .Select(f => new DraftArtifact(f.Path, Path.Combine(bundle.StagedDir, f.Path)))
            .Append(new DraftArtifact(ManifestArtifact, bundle.ManifestPath)).ToList();
        var draft = new ModelVersionDraft(run.RunId, bundle.Source.Trainer, bundle.Source.TrainerParams, numbers,
            Promotion.DataVersions(ws, splits.Version), bundle.Source.InputSignature, artifacts, ws.Config.Description);
        var message = DecisionSummary.CommitMessage(name, Promotion.NextVersion(registry, name), decision, origin);
        var update = registry.Promote(name, draft, numbers, message, options.Commit);
        log.Info($"import: {message}{(update.Commit is { Committed: true } c ? $" — commit {c.CommitId![..10]}" : "")}");
        return new ImportResult(ImportOutcome.Promoted, bundle.Id, bundle.ManifestSha256, name, m.Environment, m.Version, update.Version,
            message, run.RunId, update.Commit?.CommitId, DateTimeOffset.UtcNow);
    }

    /// <summary>Every model input must be a column here, of the same kind (numeric or categorical); extra columns here are fine.</summary>
    static List<string> SignatureMismatches(FeatureSignature model, FeatureSignature here, IEnumerable<string> columns)
    {
        var kinds = here.Features.ToDictionary(f => f.Name, f => f.Kind, StringComparer.Ordinal);
        var all = columns.ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (column, kind) in model.Features)
            if (!kinds.TryGetValue(column, out var k))
                problems.Add(all.Contains(column) ? $"'{column}' is not a feature here (excluded or the key)" : $"'{column}' is missing");
            else if (k != kind) problems.Add($"'{column}' is {kind} in the bundle but {k} here");
        return problems;
    }

    static string RecordPath(string importsDir, string manifestSha256) => Path.Combine(importsDir, $"{manifestSha256}.json");
}
