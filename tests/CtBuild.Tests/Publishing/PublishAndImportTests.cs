using CtBuild.Publishing;
using CtBuild.Registry;
using CtBuild.Tests.Support;
using CtBuild.Tracking;

namespace CtBuild.Tests.Publishing;

public sealed class PublishAndImportTests : IDisposable
{
    readonly string _shared = Directory.CreateTempSubdirectory("ctb-shared-").FullName;
    readonly List<TempWorkspace> _workspaces = [];

    public void Dispose()
    {
        foreach (var ws in _workspaces) ws.Dispose();
        Directory.Delete(_shared, recursive: true);
    }

    TempWorkspace Keep(TempWorkspace ws) { _workspaces.Add(ws); return ws; }

    [Fact]
    public void Dev_champion_is_published_imported_reevaluated_and_promoted_in_prod_and_a_worse_one_is_not()
    {
        var dev = Keep(DevProd.Dev());
        Assert.StartsWith("Promote small-model v1: AUC ", GitRepo.Log(dev.Root)[0]);
        var published = BundlePublisher.Publish(dev.LoadDev(), _shared);
        Assert.Equal(Path.Combine(_shared, "small-model", published.Id), published.Folder);
        Assert.Equal("dev", published.Manifest.Environment);

        var prod = Keep(DevProd.Prod());
        var prodCommits = GitRepo.Log(prod.Root).Count;
        var imported = BundleImporter.Import(prod.LoadProd(), _shared, new ImportOptions(), prod.Log);

        Assert.Equal(ImportOutcome.Promoted, imported.Outcome);
        Assert.Equal(1, imported.Version);
        var log = GitRepo.Log(prod.Root);
        Assert.Equal(prodCommits + 1, log.Count);
        Assert.StartsWith("Promote small-model v1 (imported from dev v1): AUC ", log[0]);
        Assert.All(GitRepo.FilesIn(prod.Root), f => Assert.StartsWith("models/small-model/", f));
        var registry = ModelRegistry.Open(prod.Root);
        var champion = registry.ResolveAlias("small-model", ModelRegistry.ChampionAlias)!;
        var devVersion = ModelRegistry.Open(dev.Root).GetVersion("small-model", 1);
        Assert.Equal(devVersion.Artifacts.Single(a => a.Name == "model.zip").Sha256, champion.Artifacts.Single(a => a.Name == "model.zip").Sha256);
        Assert.Contains(champion.Artifacts, a => a.Name == BundleImporter.ManifestArtifact);
        // Re-evaluated on prod's own splits, as a run in prod's tracking store.
        Assert.Equal(prod.LoadProd().Config.Name, imported.Model);
        var run = TrackingStore.Open(prod.LoadProd().TrackingDir).GetRun(imported.RunId!);
        Assert.Equal("import", run.Tags["stage"]);
        Assert.Equal(run.Id, champion.SourceRunId);
        Assert.Equal(run.Metrics["test_auc"], champion.Metrics["test_auc"]);
        Assert.NotEqual(devVersion.Metrics["test_auc"], champion.Metrics["test_auc"]); // other test rows, other AUC
        Assert.Equal(prod.LoadProd().Config.Name, run.Experiment);

        var again = BundleImporter.Import(prod.LoadProd(), published.Folder, new ImportOptions(), prod.Log);
        Assert.Equal(ImportOutcome.AlreadyImported, again.Outcome);
        Assert.Equal(prodCommits + 1, GitRepo.Log(prod.Root).Count);
        // The same model in another bundle (signed this time, so another manifest) is recognised as the champion.
        var resigned = BundlePublisher.Publish(dev.LoadDev(), Path.Combine(_shared, "elsewhere"), key: "k"u8.ToArray());
        var same = BundleImporter.Import(prod.LoadProd(), resigned.Folder, new ImportOptions(), prod.Log);
        Assert.Equal(ImportOutcome.KeptChampion, same.Outcome);
        Assert.Contains("already champion v1", same.Reason);
        Assert.Equal(prodCommits + 1, GitRepo.Log(prod.Root).Count);

        // A second dev whose features drop the informative column: promoted in its own dev, not in prod.
        var worseDev = Keep(DevProd.Dev(DevProd.FeaturesWithoutScore));
        var worse = BundlePublisher.Publish(worseDev.LoadDev(), _shared);
        Assert.NotEqual(published.Id, worse.Id);
        var models = DevProd.ModelsSnapshot(prod);

        var kept = BundleImporter.Import(prod.LoadProd(), _shared, new ImportOptions(), prod.Log); // the newest bundle: the worse one
        Assert.Equal(worse.Id, kept.BundleId);
        Assert.Equal(ImportOutcome.KeptChampion, kept.Outcome);
        Assert.Equal(1, kept.Version);
        var worseRun = TrackingStore.Open(prod.LoadProd().TrackingDir).GetRun(kept.RunId!);
        Assert.True(worseRun.Metrics["test_auc"] < worseRun.Metrics["champion_test_auc"] - 0.05,
            $"the model without score should be clearly worse on prod's test rows: {worseRun.Metrics["test_auc"]} vs {worseRun.Metrics["champion_test_auc"]}");
        Assert.Equal(prodCommits + 1, GitRepo.Log(prod.Root).Count);
        Assert.Equal(models, DevProd.ModelsSnapshot(prod));
        Assert.Equal(1, registry.Get("small-model").Champion);
    }

    [Fact]
    public void Publishing_writes_a_complete_signed_bundle_once_with_an_onnx_export()
    {
        var dev = Keep(DevProd.Dev());
        var key = "test-key"u8.ToArray();

        var bundle = BundlePublisher.Publish(dev.LoadDev(), _shared, key: key);
        var again = BundlePublisher.Publish(dev.LoadDev(), _shared, version: 1, key: key);

        Assert.False(bundle.AlreadyPublished);
        Assert.True(again.AlreadyPublished);
        Assert.Equal(bundle.Folder, again.Folder);
        Assert.Equal(BundlePublisher.OnnxFile, bundle.Manifest.Onnx);
        Assert.Equal(["model-card.json", "model-version.json", "model.onnx", "model.zip"], bundle.Manifest.Files.Select(f => f.Path));
        foreach (var file in bundle.Manifest.Files)
        {
            var path = Path.Combine(bundle.Folder, file.Path);
            Assert.Equal(file.Size, new FileInfo(path).Length);
            Assert.Equal(file.Sha256, CtBuild.Hashing.Sha256File(path));
        }
        var manifest = File.ReadAllBytes(Path.Combine(bundle.Folder, BundleManifest.FileName));
        Assert.True(BundleSignature.Matches(manifest, File.ReadAllText(Path.Combine(bundle.Folder, BundleManifest.SignatureFileName)), key));
        Assert.False(BundleSignature.Matches(manifest, File.ReadAllText(Path.Combine(bundle.Folder, BundleManifest.SignatureFileName)), "other"u8.ToArray()));
        // Only the finished bundle is visible: the temp folder it was built in is gone.
        Assert.Equal([bundle.Id], Directory.EnumerateFileSystemEntries(Path.Combine(_shared, "small-model")).Select(Path.GetFileName));
    }

    [Fact]
    public void Publishing_without_a_champion_says_so()
    {
        var dev = Keep(new TempWorkspace().WithConfig(DevProd.Config()).WithFeaturesSql(SmallConfig.FeaturesSql));
        var error = Assert.ThrowsAny<CtBuildException>(() => BundlePublisher.Publish(dev.LoadDev(), _shared));
        Assert.Contains("small-model", error.Message);
    }
}
