using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using CtBuild.Blobs;
using CtBuild.Publishing;
using CtBuild.Registry;
using CtBuild.Tests.Blobs;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Publishing;

/// <summary>One Azurite and one dev workspace whose champion v1 every test publishes, each into its own container.</summary>
public sealed class BlobPublishing : IDisposable
{
    readonly Lazy<Azurite> _azurite = new(() => new Azurite());
    readonly Lazy<TempWorkspace> _dev = new(() => DevProd.Dev());

    public Azurite Azurite => _azurite.Value;
    public TempWorkspace Dev => _dev.Value;

    public void Dispose()
    {
        if (_azurite.IsValueCreated) _azurite.Value.Dispose();
        if (_dev.IsValueCreated) _dev.Value.Dispose();
    }
}

public sealed class BlobBundleStoreTests(BlobPublishing fx) : IClassFixture<BlobPublishing>, IDisposable
{
    const string Model = "small-model";
    readonly string _scratch = Directory.CreateTempSubdirectory("ctb-blob-test-").FullName;
    readonly List<TempWorkspace> _workspaces = [];

    public void Dispose()
    {
        foreach (var ws in _workspaces) ws.Dispose();
        Directory.Delete(_scratch, recursive: true);
    }

    TempWorkspace Prod() { var ws = DevProd.Prod(); _workspaces.Add(ws); return ws; }

    (string Container, string Url) NewContainer()
    {
        var container = fx.Azurite.NewContainer();
        return (container, $"az://{Azurite.Account}/{container}/ctb");
    }

    BlobContainerClient Client(string container) => fx.Azurite.Service.GetBlobContainerClient(container);

    PublishedBundle Publish(string url, byte[]? key = null) => BundlePublisher.Publish(fx.Dev.LoadDev(), url, key: key, credentials: fx.Azurite.Credentials);

    ImportResult Import(TempWorkspace prod, string url, ImportOptions? options = null) =>
        BundleImporter.Import(prod.LoadProd(), url, (options ?? new ImportOptions()) with { Credentials = fx.Azurite.Credentials }, prod.Log);

    /// <summary>Fetches the newest bundle and runs the importer's whole verification on it.</summary>
    VerifiedBundle FetchVerified(string url, byte[]? key = null)
    {
        var scratch = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        var found = BundleStore.Open(url, fx.Azurite.Credentials).Fetch(Model, Path.Combine(scratch, "download"));
        return VerifiedBundle.Stage(found.Folder, Path.Combine(scratch, "staged"), key is not null, key, found.Location);
    }

    List<string> ExpectedBlobs(PublishedBundle bundle, bool signed = false) =>
        bundle.Manifest.Files.Select(f => f.Path).Append(BundleManifest.FileName)
            .Concat(signed ? [BundleManifest.SignatureFileName] : [])
            .Select(p => $"ctb/{Model}/{bundle.Id}/{p}").Append($"ctb/{Model}/.claims/{bundle.Id}.json").Order(StringComparer.Ordinal).ToList();

    Dictionary<string, string> PublishEnv(string? faultPoint = null, string? action = null, string? key = null)
    {
        var env = fx.Azurite.Env();
        if (faultPoint is not null) env["CTB_FAULT_POINT"] = faultPoint;
        if (action is not null) env["CTB_FAULT_ACTION"] = action;
        if (key is not null) env["CTB_BUNDLE_KEY"] = key;
        return env;
    }

    [AzuriteFact]
    public void Dev_publishes_to_a_container_and_prod_imports_and_promotes_from_it()
    {
        var (container, url) = NewContainer();
        var published = Publish(url);
        Assert.False(published.AlreadyPublished);
        Assert.Equal($"{url}/{Model}/{published.Id}", published.Folder);
        // The bundle and the claim that decided it; every staged attempt is gone.
        Assert.Equal(ExpectedBlobs(published), fx.Azurite.BlobNames(container));
        var again = Publish(url);
        Assert.True(again.AlreadyPublished);
        Assert.Equal(published.Manifest.Created, again.Manifest.Created);
        Assert.Equal(ExpectedBlobs(published), fx.Azurite.BlobNames(container));

        var prod = Prod();
        var commits = GitRepo.Log(prod.Root).Count;
        var imported = Import(prod, url);
        Assert.Equal(ImportOutcome.Promoted, imported.Outcome);
        Assert.Equal(published.Id, imported.BundleId);
        Assert.Equal(commits + 1, GitRepo.Log(prod.Root).Count);
        Assert.StartsWith("Promote small-model v1 (imported from dev v1): AUC ", GitRepo.Log(prod.Root)[0]);
        var champion = ModelRegistry.Open(prod.Root).ResolveAlias(Model, ModelRegistry.ChampionAlias)!;
        Assert.Equal(published.Manifest.Files.Single(f => f.Path == "model.zip").Sha256, champion.Artifacts.Single(a => a.Name == "model.zip").Sha256);
        // Downloaded into prod's state folder and cleaned up: only the import record stays.
        Assert.All(Directory.EnumerateFileSystemEntries(Path.Combine(prod.LoadProd().StateDir, "imports")), e => Assert.EndsWith(".json", e));

        var direct = Import(prod, published.Folder); // the bundle's own URL
        Assert.Equal(ImportOutcome.AlreadyImported, direct.Outcome);
        Assert.Equal(commits + 1, GitRepo.Log(prod.Root).Count);
    }

    [AzuriteFact]
    public void Two_publishers_racing_for_one_version_leave_one_whole_bundle_signed_by_the_winner()
    {
        var (container, url) = NewContainer();
        var resume = Path.Combine(_scratch, "go");
        CtbProcess Start(string key)
        {
            var env = PublishEnv("publish.blob-before-claim", "pause", key);
            env["CTB_FAULT_RESUME"] = resume;
            return CtbProcess.Start(fx.Dev.Root, ["publish", "--to", url, "--env", "dev", "--json"], env);
        }
        using var a = Start("key-a");
        using var b = Start("key-b");
        // Both have staged every file and stand before the claim; then both go at once.
        Assert.True(a.WaitForOutput("fault point publish.blob-before-claim reached", TimeSpan.FromSeconds(120)), a.OutputSoFar);
        Assert.True(b.WaitForOutput("fault point publish.blob-before-claim reached", TimeSpan.FromSeconds(120)), b.OutputSoFar);
        File.WriteAllText(resume, "");
        var ra = a.WaitForExit(TimeSpan.FromSeconds(120));
        var rb = b.WaitForExit(TimeSpan.FromSeconds(120));
        Assert.True(ra.ExitCode == 0, ra.Output);
        Assert.True(rb.ExitCode == 0, rb.Output);

        var aWon = !ra.StdOut.Contains("\"alreadyPublished\": true") && !ra.StdOut.Contains("\"alreadyPublished\":true");
        var bWon = !rb.StdOut.Contains("\"alreadyPublished\": true") && !rb.StdOut.Contains("\"alreadyPublished\":true");
        Assert.True(aWon ^ bWon, $"exactly one publisher wins:\n{ra.StdOut}\n{rb.StdOut}");
        var (winner, loser) = aWon ? ("key-a", "key-b") : ("key-b", "key-a");
        // Manifest, signature and files all come from the winner: its key verifies the whole bundle, the loser's does not.
        var bundle = FetchVerified(url, System.Text.Encoding.UTF8.GetBytes(winner));
        Assert.True(bundle.Signed);
        var error = Assert.Throws<BundleException>(() => FetchVerified(url, System.Text.Encoding.UTF8.GetBytes(loser)));
        Assert.Contains("signature does not match", error.Message);
        Assert.DoesNotContain(fx.Azurite.BlobNames(container), n => n.Contains("/.staging/"));
    }

    [AzuriteFact]
    public void A_publish_killed_mid_upload_leaves_no_visible_bundle_and_the_next_publish_succeeds()
    {
        var (container, url) = NewContainer();
        using (var child = CtbProcess.Start(fx.Dev.Root, ["publish", "--to", url, "--env", "dev"], PublishEnv("publish.blob-after-upload", "pause")))
        {
            Assert.True(child.WaitForOutput("fault point publish.blob-after-upload reached", TimeSpan.FromSeconds(120)), child.OutputSoFar);
            child.KillHard(); // SIGKILL between two uploads
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)).Killed);
        }
        var left = fx.Azurite.BlobNames(container);
        Assert.Single(left); // one staged file, nothing else
        Assert.Contains($"ctb/{Model}/.staging/", left[0]);
        var none = Assert.Throws<BundleException>(() => FetchVerified(url));
        Assert.Contains($"No bundle of '{Model}' under {url}", none.Message);

        var next = Publish(url);
        Assert.False(next.AlreadyPublished);
        Assert.Equal(ExpectedBlobs(next), fx.Azurite.BlobNames(container)); // the killed attempt's staging is cleaned up too
        Assert.Equal(next.Manifest.Files, FetchVerified(url).Manifest.Files);
    }

    [AzuriteFact]
    public void A_publish_killed_after_its_claim_and_halfway_into_place_is_invisible_until_the_next_publish_finishes_it()
    {
        var (container, url) = NewContainer();
        var killed = CtbProcess.Run(fx.Dev.Root, ["publish", "--to", url, "--env", "dev"], PublishEnv("publish.blob-after-copy", key: "k"));
        Assert.True(killed.Killed, killed.Output);
        var left = fx.Azurite.BlobNames(container);
        Assert.Contains($"ctb/{Model}/.claims/", string.Join("\n", left));
        Assert.Single(left, n => !n.Contains("/.")); // one file copied into the bundle's place, no manifest there
        var none = Assert.Throws<BundleException>(() => FetchVerified(url)); // claimed, half in place, not visible
        Assert.Contains($"No bundle of '{Model}'", none.Message);

        // The next publisher (unsigned) finishes the claimed attempt rather than publishing its own.
        var next = Publish(url);
        Assert.True(next.AlreadyPublished);
        Assert.True(next.Signed);
        Assert.Equal(ExpectedBlobs(next, signed: true), fx.Azurite.BlobNames(container));
        Assert.True(FetchVerified(url, "k"u8.ToArray()).Signed);
    }

    [AzuriteFact]
    public void Tampered_bundles_in_the_container_are_refused_and_prod_is_unchanged()
    {
        var (container, url) = NewContainer();
        var published = Publish(url);
        var blobs = Client(container);
        var prefix = $"ctb/{Model}/{published.Id}/";
        var prod = Prod();
        var models = DevProd.ModelsSnapshot(prod);
        var commits = GitRepo.Log(prod.Root).Count;
        var imports = Path.Combine(prod.LoadProd().StateDir, "imports");
        void Refused(string expected)
        {
            var error = Assert.Throws<BundleException>(() => Import(prod, url));
            Assert.Contains(expected, error.Message);
            Assert.Equal(models, DevProd.ModelsSnapshot(prod));
            Assert.Equal(commits, GitRepo.Log(prod.Root).Count);
            Assert.False(Directory.Exists(imports), "nothing downloaded stays behind");
        }
        byte[] Read(string name) => blobs.GetBlobClient(prefix + name).DownloadContent().Value.Content.ToArray();
        void Write(string name, byte[] bytes) => blobs.GetBlobClient(prefix + name).Upload(BinaryData.FromBytes(bytes), overwrite: true);

        var model = Read("model.zip");
        var changed = (byte[])model.Clone();
        changed[changed.Length / 2] ^= 0xff;
        Write("model.zip", changed);
        Refused("'model.zip' has sha256");
        Write("model.zip", model);

        Write("notes.txt", "hello"u8.ToArray());
        Refused("holds 'notes.txt', which its manifest does not list");
        blobs.GetBlobClient(prefix + "notes.txt").Delete();

        var manifest = Read(BundleManifest.FileName);
        var text = System.Text.Encoding.UTF8.GetString(manifest);
        Write(BundleManifest.FileName, System.Text.Encoding.UTF8.GetBytes(text.Replace("\"path\": \"model-card.json\"", "\"path\": \"../model-card.json\"")));
        Refused("'../model-card.json', which is not a plain relative path inside the bundle");
        Write(BundleManifest.FileName, System.Text.Encoding.UTF8.GetBytes(text.Replace("\"formatVersion\": 1", "\"formatVersion\": 99")));
        Refused("bundle format 99, newer than");
        Write(BundleManifest.FileName, manifest);

        // Untampered again, the same bundle imports: the refusals were about the tampering.
        Assert.Equal(ImportOutcome.Promoted, Import(prod, url).Outcome);
    }

    [AzuriteFact]
    public void Storage_faults_name_the_url_without_its_secret_say_what_to_do_and_write_nothing()
    {
        var (container, url) = NewContainer();
        var dev = fx.Dev.LoadDev();
        CtBuildException Fails(BlobCredentials credentials, string target, int exitCode, string expected)
        {
            var error = Assert.ThrowsAny<CtBuildException>(() => BundlePublisher.Publish(dev, target, credentials: credentials));
            Assert.Equal(exitCode, error.ExitCode);
            Assert.Contains(target, error.Message);
            Assert.Contains(expected, error.Message);
            Assert.DoesNotContain(Azurite.Key, error.Message);
            return error;
        }

        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            var closed = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop(); // nothing listens there now
            Fails(new BlobCredentials(fx.Azurite.ConnectionString.Replace($":{fx.Azurite.Port}/", $":{closed}/"), null), url, 1, "cannot be reached");
        }
        var wrongKey = Convert.ToBase64String(new byte[64]);
        Fails(new BlobCredentials(fx.Azurite.ConnectionStringWith(wrongKey), null), url, 2, "refused the credentials");
        Fails(fx.Azurite.Credentials, $"az://{Azurite.Account}/no-such-container/ctb", 2, "container 'no-such-container' does not exist");

        var readOnly = Client(container).GenerateSasUri(BlobContainerSasPermissions.Read | BlobContainerSasPermissions.List, DateTimeOffset.UtcNow.AddHours(1));
        var sas = readOnly.Query.TrimStart('?');
        var error = Fails(new BlobCredentials($"BlobEndpoint={fx.Azurite.Endpoint};SharedAccessSignature={sas}", null), url, 2, "do not allow");
        Assert.DoesNotContain("sig=", error.Message);
        Assert.Empty(fx.Azurite.BlobNames(container)); // nothing half-written

        // The same through ctb: exit code 2, the URL named, the key nowhere in the output.
        var cli = CtbProcess.Run(fx.Dev.Root, ["publish", "--to", url, "--env", "dev"], fx.Azurite.Env(fx.Azurite.ConnectionStringWith(wrongKey)));
        Assert.Equal(2, cli.ExitCode);
        Assert.Contains(url, cli.Output);
        Assert.DoesNotContain(wrongKey, cli.Output);
        Assert.Empty(fx.Azurite.BlobNames(container));
    }
}
