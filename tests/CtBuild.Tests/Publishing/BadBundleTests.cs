using System.Text.Json.Nodes;
using CtBuild.Publishing;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Publishing;

/// <summary>One dev champion published (signed) once, one prod workspace with its splits and no model; built once for the class.</summary>
public sealed class PublishedBundleFixture : IDisposable
{
    public static readonly byte[] Key = "shared-secret"u8.ToArray();
    public TempWorkspace Dev { get; } = DevProd.Dev();
    public TempWorkspace Prod { get; } = DevProd.Prod();
    public string Shared { get; } = Directory.CreateTempSubdirectory("ctb-shared-").FullName;
    public PublishedBundle Bundle { get; }

    public PublishedBundleFixture() => Bundle = BundlePublisher.Publish(Dev.LoadDev(), Shared, key: Key);

    public void Dispose()
    {
        Dev.Dispose();
        Prod.Dispose();
        Directory.Delete(Shared, recursive: true);
    }
}

/// <summary>
/// Each damaged or untrusted bundle is refused with a message naming the problem, and prod is left as it
/// was: no commit, no models/ change, no import record. (xunit runs one class's tests one at a time, so
/// they share the fixture's prod safely; none of them may change it.)
/// </summary>
public sealed class BadBundleTests(PublishedBundleFixture fixture) : IClassFixture<PublishedBundleFixture>, IDisposable
{
    readonly string _copies = Directory.CreateTempSubdirectory("ctb-bundle-").FullName;

    public void Dispose() => Directory.Delete(_copies, recursive: true);

    /// <summary>A fresh copy of the published bundle to damage.</summary>
    string Copy()
    {
        var target = Path.Combine(_copies, fixture.Bundle.Id);
        foreach (var file in Directory.EnumerateFiles(fixture.Bundle.Folder))
        {
            Directory.CreateDirectory(target);
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        return target;
    }

    /// <summary>Rewrites the manifest (which voids its signature, so that is removed).</summary>
    static void EditManifest(string bundle, Action<JsonObject> edit)
    {
        var path = Path.Combine(bundle, BundleManifest.FileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
        File.Delete(Path.Combine(bundle, BundleManifest.SignatureFileName));
    }

    BundleException Refused(string bundle, ImportOptions? options = null, TempWorkspace? prod = null)
    {
        prod ??= fixture.Prod;
        var commits = GitRepo.Log(prod.Root);
        var models = DevProd.ModelsSnapshot(prod);
        var imports = Path.Combine(prod.LoadProd().StateDir, "imports");

        var error = Assert.Throws<BundleException>(() => BundleImporter.Import(prod.LoadProd(), bundle, options ?? new ImportOptions(), prod.Log));

        Assert.Equal(commits, GitRepo.Log(prod.Root));
        Assert.Equal(models, DevProd.ModelsSnapshot(prod));
        Assert.False(Directory.Exists(imports) && Directory.EnumerateFileSystemEntries(imports).Any(), "no import record and no staging left behind");
        return error;
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        var bundle = Copy();
        var model = Path.Combine(bundle, "model.zip");
        var bytes = File.ReadAllBytes(model);
        File.WriteAllBytes(model, bytes[..(bytes.Length / 2)]);

        var error = Refused(bundle);
        Assert.Contains("'model.zip'", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_file_altered_after_publishing_is_refused()
    {
        var bundle = Copy();
        var card = Path.Combine(bundle, "model-card.json");
        var bytes = File.ReadAllBytes(card);
        bytes[10] ^= 1; // same size, other content
        File.WriteAllBytes(card, bytes);

        var error = Refused(bundle);
        Assert.Contains("'model-card.json'", error.Message);
        Assert.Contains("changed after publishing", error.Message);
    }

    [Fact]
    public void A_file_the_manifest_does_not_list_is_refused()
    {
        var bundle = Copy();
        Directory.CreateDirectory(Path.Combine(bundle, "extra"));
        File.WriteAllText(Path.Combine(bundle, "extra", "notes.txt"), "hello");

        var error = Refused(bundle);
        Assert.Contains("'extra/notes.txt'", error.Message);
        Assert.Contains("does not list", error.Message);
    }

    [Theory]
    [InlineData("../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/../../x")]
    public void A_manifest_path_outside_the_bundle_is_refused(string path)
    {
        var bundle = Copy();
        EditManifest(bundle, m => m["files"]!.AsArray().Add(new JsonObject { ["path"] = path, ["sha256"] = new string('0', 64), ["size"] = 1 }));

        var error = Refused(bundle);
        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains("not a plain relative path", error.Message);
    }

    [Fact]
    public void A_symbolic_link_in_the_bundle_is_refused()
    {
        var bundle = Copy();
        var card = Path.Combine(bundle, "model-card.json");
        var elsewhere = Path.Combine(_copies, "card-elsewhere.json");
        File.Move(card, elsewhere);
        File.CreateSymbolicLink(card, elsewhere); // same bytes, so only the link itself is wrong

        var error = Refused(bundle);
        Assert.Contains("'model-card.json' is a symbolic link", error.Message);
    }

    [Fact]
    public void A_missing_signature_is_refused_when_one_is_required()
    {
        var bundle = Copy();
        File.Delete(Path.Combine(bundle, BundleManifest.SignatureFileName));

        var error = Refused(bundle, new ImportOptions(RequireSignature: true, Key: PublishedBundleFixture.Key));
        Assert.Contains("not signed", error.Message);
    }

    [Fact]
    public void A_signature_made_with_another_key_is_refused()
    {
        var error = Refused(Copy(), new ImportOptions(RequireSignature: true, Key: "another-secret"u8.ToArray()));
        Assert.Contains("signature does not match", error.Message);
    }

    [Fact]
    public void A_manifest_changed_after_signing_is_refused()
    {
        var bundle = Copy();
        var signature = File.ReadAllText(Path.Combine(bundle, BundleManifest.SignatureFileName));
        EditManifest(bundle, m => m["version"] = 7);
        File.WriteAllText(Path.Combine(bundle, BundleManifest.SignatureFileName), signature);

        var error = Refused(bundle, new ImportOptions(RequireSignature: true, Key: PublishedBundleFixture.Key));
        Assert.Contains("signature does not match", error.Message);
    }

    [Fact]
    public void Requiring_a_signature_without_a_key_says_which_variable_to_set()
    {
        var error = Refused(Copy(), new ImportOptions(RequireSignature: true, Key: null));
        Assert.Contains(BundleSignature.KeyVariable, error.Message);
    }

    [Fact]
    public void A_newer_bundle_format_is_refused()
    {
        var bundle = Copy();
        EditManifest(bundle, m => m["formatVersion"] = BundleManifest.CurrentFormat + 1);

        var error = Refused(bundle);
        Assert.Contains($"bundle format {BundleManifest.CurrentFormat + 1}", error.Message);
        Assert.Contains("newer", error.Message);
    }

    [Fact]
    public void A_bundle_whose_features_do_not_match_prod_is_refused()
    {
        // A prod whose features SQL makes score a string: the model needs it numeric.
        using var prod = DevProd.Prod("SELECT id, age, city, CAST(score AS VARCHAR) AS score, label = 'yes' AS label FROM raw");

        var error = Refused(Copy(), prod: prod);
        Assert.Contains("'score' is numeric in the bundle but categorical here", error.Message);
    }

    [Theory]
    [InlineData("a byte flipped inside the zip")]
    [InlineData("a zip that is not a model")]
    public void An_unsigned_bundle_with_a_damaged_model_that_matches_its_manifest_is_refused_saying_the_model_cannot_be_loaded(string damage)
    {
        var bundle = Copy();
        var model = Path.Combine(bundle, "model.zip");
        if (damage.StartsWith("a byte"))
        {
            var bytes = File.ReadAllBytes(model);
            bytes[bytes.Length / 3] ^= 0xFF;
            File.WriteAllBytes(model, bytes);
        }
        else
        {
            File.Delete(model);
            using var zip = System.IO.Compression.ZipFile.Open(model, System.IO.Compression.ZipArchiveMode.Create);
            using var entry = new StreamWriter(zip.CreateEntry("TransformerChain/Model.key").Open());
            entry.Write("not a model");
        }
        EditManifest(bundle, m =>
        {
            var file = m["files"]!.AsArray().Single(f => f!["path"]!.GetValue<string>() == "model.zip")!;
            file["size"] = new FileInfo(model).Length;
            file["sha256"] = CtBuild.Hashing.Sha256File(model);
        });

        var error = Refused(bundle);
        Assert.Contains("its model.zip matches the manifest but cannot be loaded as an ML.NET model", error.Message);

        var cli = CrashSafety.CtbProcess.Run(fixture.Prod.Root, ["import", "--from", bundle, "--env", "prod"]);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("cannot be loaded as an ML.NET model", cli.StdErr);
        Assert.DoesNotContain("Unexpected error", cli.StdErr);
        Assert.DoesNotContain("   at ", cli.StdErr); // no stack trace
    }

    [Fact]
    public void The_untouched_bundle_passes_these_checks()
    {
        // The control: the same copy, signature required, is verified and staged.
        var staging = Path.Combine(_copies, "staging");
        var verified = VerifiedBundle.Stage(Copy(), staging, requireSignature: true, PublishedBundleFixture.Key);
        Assert.True(verified.Signed);
        Assert.Equal(fixture.Bundle.Manifest.Files.Count + 1, Directory.EnumerateFiles(staging).Count()); // + the manifest
    }
}
