using CtBuild.Lake;
using System.Text;
using Azure.Storage.Blobs;
using CtBuild.Configuration;
using CtBuild.Stages;
using CtBuild.Storage;
using CtBuild.Tests.Blobs;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest;

public sealed class BlobDeliveriesTests(BlobDeliveriesTests.Emulator azurite) : IClassFixture<BlobDeliveriesTests.Emulator>, IDisposable
{
    public sealed class Emulator : IDisposable
    {
        readonly Lazy<Azurite> _azurite = new(() => new Azurite());
        public Azurite Azurite => _azurite.Value;
        public void Dispose() { if (_azurite.IsValueCreated) _azurite.Value.Dispose(); }
    }

    readonly List<TempWorkspace> _workspaces = [];
    public void Dispose() { foreach (var ws in _workspaces) ws.Dispose(); }

    (TempWorkspace Ws, BlobContainerClient Container, string Source) Workspace()
    {
        var container = azurite.Azurite.NewContainer();
        var source = $"az://{Azurite.Account}/{container}/deliveries";
        var ws = new TempWorkspace().WithConfig(SmallConfig.Json($"\"sources\": [\"{source}\"],")).WithFeaturesSql(SmallConfig.FeaturesSql);
        _workspaces.Add(ws);
        return (ws, azurite.Azurite.Service.GetBlobContainerClient(container), source);
    }

    static void Deliver(BlobContainerClient container, string name, string content) =>
        container.GetBlobClient($"deliveries/{name}").Upload(BinaryData.FromString(content), overwrite: true);

    CtbResult Ingest(TempWorkspace ws, Dictionary<string, string>? extra = null)
    {
        var env = azurite.Azurite.Env();
        foreach (var (k, v) in extra ?? []) env[k] = v;
        var result = CtbProcess.Run(ws.Root, ["ingest", "--config", Path.Combine(ws.Root, "ctbuild.json")], env);
        Assert.True(result.ExitCode == 0, result.Output);
        return result;
    }

    static long Count(TempWorkspace ws, string table, string where = "true")
    {
        var t = LakeTables.Open(ws.Load(), table);
        if (!t.Exists) return 0;
        using var db = DuckDb.Open();
        return db.Scalar<long>($"SELECT count(*) FROM {t.Snapshot().ToDuckDbSql()} WHERE {where}");
    }

    static string WithBadRow(string rows, int id) => rows + $"{id},not-an-age,Oslo,1.0,yes\n";

    [AzuriteFact]
    public void Blobs_in_a_container_are_ingested_once_each_with_the_contract_quarantine_and_their_etag()
    {
        var (ws, container, source) = Workspace();
        Deliver(container, "day-1.csv", WithBadRow(SmallConfig.Rows(30), 31));
        ws.WriteRaw("local.csv", SmallConfig.Rows(5, firstId: 500)); // the raw folder is still read
        Ingest(ws);
        Assert.Equal(30, Count(ws, "raw", $"_source_file = '{source}/day-1.csv'"));
        Assert.Equal(1, Count(ws, IngestStage.QuarantineTable, $"source_file = '{source}/day-1.csv'"));
        Assert.Equal(5, Count(ws, "raw", "_source_file = 'local.csv'"));
        var etag = container.GetBlobClient("deliveries/day-1.csv").GetProperties().Value.ETag.ToString();
        var commit = LakeTables.Open(ws.Load(), "raw").History().Last();
        Assert.Contains(etag.Trim('"'), commit.OperationParameters["blobs"]);

        // A new blob: only it is read. The same bytes again (a new ETag) and under another name: not ingested twice.
        Deliver(container, "day-2.csv", SmallConfig.Rows(20, firstId: 100, seed: 2));
        Ingest(ws);
        Assert.Equal(55, Count(ws, "raw"));
        Deliver(container, "day-1.csv", WithBadRow(SmallConfig.Rows(30), 31));
        Deliver(container, "day-1-again.csv", WithBadRow(SmallConfig.Rows(30), 31));
        var redelivered = Ingest(ws);
        Assert.Contains($"{source}/day-1-again.csv has the same content as a file already ingested", redelivered.Output);
        Assert.Equal(55, Count(ws, "raw"));
        Assert.Equal(1, Count(ws, IngestStage.QuarantineTable));

        // A changed blob replaces its earlier rows, as a changed raw file does; every row is in raw or quarantine.
        Deliver(container, "day-1.csv", WithBadRow(WithBadRow(SmallConfig.Rows(12, seed: 9), 13), 14));
        var changed = Ingest(ws);
        Assert.Contains($"{source}/day-1.csv was ingested before with different content", changed.Output);
        Assert.Equal(12, Count(ws, "raw", $"_source_file = '{source}/day-1.csv'"));
        Assert.Equal(2, Count(ws, IngestStage.QuarantineTable, $"source_file = '{source}/day-1.csv'"));
        Assert.Equal(12 + 2 + 20 + 5, Count(ws, "raw") + Count(ws, IngestStage.QuarantineTable));

        // Nothing new: the stage is up to date and reads nothing.
        Assert.Contains("up to date", Ingest(ws).Output);
    }

    [AzuriteFact]
    public void A_blob_rewritten_while_it_is_read_is_not_ingested_until_the_next_run()
    {
        var (ws, container, source) = Workspace();
        Deliver(container, "day-1.csv", SmallConfig.Rows(10));
        var resume = Path.Combine(ws.Root, "go");
        var env = azurite.Azurite.Env();
        env["CTB_FAULT_POINT"] = "ingest.blob-before-download";
        env["CTB_FAULT_ACTION"] = "pause";
        env["CTB_FAULT_RESUME"] = resume;
        using (var child = CtbProcess.Start(ws.Root, ["ingest", "--config", Path.Combine(ws.Root, "ctbuild.json")], env))
        {
            Assert.True(child.WaitForOutput("fault point ingest.blob-before-download reached", TimeSpan.FromSeconds(60)), child.OutputSoFar);
            Deliver(container, "day-1.csv", SmallConfig.Rows(7, seed: 4)); // the writer is not done: the listed ETag no longer holds
            File.WriteAllText(resume, "");
            var result = child.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Contains($"{source}/day-1.csv changed while it was being read", result.Output);
        }
        Assert.Equal(0, Count(ws, "raw"));
        Ingest(ws);
        Assert.Equal(7, Count(ws, "raw", $"_source_file = '{source}/day-1.csv'"));
    }

    [Fact]
    public void A_source_that_is_not_a_container_url_or_carries_a_secret_is_a_config_error()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json("\"sources\": [\"az://acct1/raw/in\", \"az://acct1/raw/in?sv=2024&sig=abc\", \"/mnt/raw\"],"));
        var error = Assert.Throws<ConfigException>(() => ws.Load());
        Assert.Contains("ingest.sources[1]", error.Message);
        Assert.Contains("holds no secret", error.Message);
        Assert.DoesNotContain("sig=abc", error.Message);
        Assert.Contains("ingest.sources[2]", error.Message);
        Assert.DoesNotContain("ingest.sources[0]", error.Message);
    }
}
