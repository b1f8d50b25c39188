using CtBuild.Lake;
using CtBuild.Stages;
using CtBuild.Storage;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Stages;

public sealed class SplitStageTests : IDisposable
{
    readonly TempWorkspace _ws = new();

    public void Dispose() => _ws.Dispose();

    TempWorkspace Workspace(string split, string featuresSql)
    {
        _ws.WithConfig(SmallConfig.Json().Replace("\"split\": { \"key\": \"id\" }", split)).WithFeaturesSql(featuresSql);
        return _ws;
    }

    /// <summary>Each row's split by id, from the latest splits version.</summary>
    Dictionary<long, string> SplitsById()
    {
        var ws = _ws.Load();
        using var db = DuckDb.Open(null);
        return db.Query($"SELECT id, split FROM {LakeTables.Latest(ws, SplitStage.Table, "split").ToDuckDbSql()}",
            r => (Convert.ToInt64(r.GetValue(0)), r.GetString(1))).ToDictionary(x => x.Item1, x => x.Item2);
    }

    void RunFeaturesAndSplit()
    {
        _ws.Run(new FeaturesStage());
        _ws.Run(new SplitStage());
    }

    [Theory]
    [InlineData("SELECT id, age, city, score, label = 'yes' AS label FROM raw", "every column but the label")]
    [InlineData("SELECT id, age, city, score, _source_sha256, _source_line, label = 'yes' AS label FROM raw", "row identity (_source_sha256, _source_line)")]
    public void Without_a_key_flipping_every_label_moves_no_row_to_another_split(string featuresSql, string hashed)
    {
        Workspace("\"split\": {}", featuresSql).WriteRaw("a.csv", SmallConfig.Rows(600));
        _ws.Run(new IngestStage());
        RunFeaturesAndSplit();
        var before = SplitsById();
        Assert.Contains(_ws.Log.Lines, l => l.StartsWith($"split: hashing {hashed}"));

        _ws.WithFeaturesSql(featuresSql.Replace("label = 'yes'", "label = 'no'"));
        RunFeaturesAndSplit();

        Assert.Equal(600, before.Count);
        Assert.Equal(before, SplitsById());
        Assert.Equal(3, before.Values.Distinct().Count());
    }

    [Fact]
    public void Without_a_key_duplicates_behave_as_documented_and_are_counted_in_the_log()
    {
        // Every row delivered twice: the same content in two files.
        var rows = SmallConfig.Rows(300);
        Workspace("\"split\": {}", "SELECT age, city, score, label = 'yes' AS label FROM raw").WriteRaw("a.csv", rows);
        _ws.WriteRaw("b.csv", rows.Replace("\n1,", "\n1001,")); // another file (other bytes), same feature rows
        _ws.Run(new IngestStage());
        RunFeaturesAndSplit();

        Assert.Contains(_ws.Log.Lines, l => l.StartsWith("split: hashing every column but the label; ") && l.Contains("rows are identical to another one (label aside) and share its split"));
        using var db = DuckDb.Open(null);
        var splitsPerRow = db.Scalar<long>($"""
            SELECT max(n) FROM (SELECT count(DISTINCT split) AS n FROM {LakeTables.Latest(_ws.Load(), SplitStage.Table, "split").ToDuckDbSql()}
                                GROUP BY age, city, score)
            """);
        Assert.Equal(1, splitsPerRow);
    }

    // 50 keys, 15 of them all positive: whole keys land in a split, so valid and test get none of the positive ones.
    const string KeyFollowsLabel = "SELECT id, id % 50 AS grp, score, (id % 50) < 15 AS label FROM raw";

    [Fact]
    public void A_split_whose_label_balance_is_off_by_more_than_chance_is_warned_about()
    {
        Workspace("\"split\": { \"key\": \"grp\" }", KeyFollowsLabel).WriteRaw("a.csv", SmallConfig.Rows(2000));
        _ws.Run(new IngestStage());
        RunFeaturesAndSplit();
        var warning = Assert.Single(_ws.Log.Lines, l => l.StartsWith("warning: split: the splits' label balance differs by more than chance allows"));
        Assert.Contains("two-proportion z-test, p < 0.001 after Bonferroni", warning);
        Assert.NotNull(LakeTables.LatestVersion(_ws.Load(), SplitStage.Table));
    }

    [Fact]
    public void With_balanceCheck_fail_a_skewed_split_fails_and_writes_nothing()
    {
        Workspace("\"split\": { \"key\": \"grp\", \"balanceCheck\": \"fail\" }", KeyFollowsLabel).WriteRaw("a.csv", SmallConfig.Rows(2000));
        _ws.Run(new IngestStage());
        _ws.Run(new FeaturesStage());
        var ex = Assert.Throws<CtBuildException>(() => _ws.Run(new SplitStage()));
        Assert.Contains("Nothing was written", ex.Message);
        Assert.Null(LakeTables.LatestVersion(_ws.Load(), SplitStage.Table));
    }

    [Fact]
    public void A_balanced_split_says_nothing_and_balanceCheck_off_silences_a_skewed_one()
    {
        Workspace("\"split\": { \"key\": \"grp\", \"balanceCheck\": \"off\" }", KeyFollowsLabel).WriteRaw("a.csv", SmallConfig.Rows(2000));
        _ws.Run(new IngestStage());
        RunFeaturesAndSplit();
        _ws.WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);
        RunFeaturesAndSplit();
        Assert.DoesNotContain(_ws.Log.Lines, l => l.Contains("label balance"));
    }
}
