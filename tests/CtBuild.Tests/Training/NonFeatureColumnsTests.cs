using CtBuild.Lake;
using CtBuild.Training;

namespace CtBuild.Tests.Training;

public sealed class NonFeatureColumnsTests
{
    [Fact]
    public void The_split_key_excluded_columns_and_ingest_lineage_are_not_features_and_each_says_why()
    {
        var schema = new[] { "record_id", "age", "batch", "_source_sha256", "_source_line", "label", "split" }
            .Select(n => new DeltaField(n, n == "age" || n == "_source_line" ? "long" : "string", true)).ToList();

        var skipped = NonFeatureColumns.Of(schema, ["batch"], "record_id", "split");

        Assert.Equal("record_id (split.key), batch (features.exclude), _source_sha256 (Ingest lineage), _source_line (Ingest lineage)",
            NonFeatureColumns.Describe(skipped));
        var signature = FeatureSignature.FromSchema(schema, "label", skipped.Select(s => s.Name));
        Assert.Equal(["age"], signature.Features.Select(f => f.Name));
    }
}
