using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class TestPairingTests
{
    static readonly TestSnapshotRef Snapshot = new("splits", 3, "test");
    static readonly CtBuild.Training.FeatureSignature Signature = new(["x"], [], "label");

    static CtBuild.Training.ModelInput Input(params (string Key, bool Label)[] rows) =>
        new(rows.Select(r => new CtBuild.Training.ModelInputRow { Label = r.Label, Numeric = [1f], Categorical = [""] }).ToList(), Signature)
        { RowKeys = rows.Select(r => r.Key).ToList() };

    [Fact]
    public void Rows_in_another_order_or_with_another_label_are_refused_naming_the_row()
    {
        var candidate = Input(("1", true), ("2", false), ("3", true));
        TestPairing.RequireSameRows(candidate, Input(("1", true), ("2", false), ("3", true)), Snapshot);

        var order = Assert.Throws<CtBuildException>(() => TestPairing.RequireSameRows(candidate, Input(("1", true), ("3", true), ("2", false)), Snapshot));
        Assert.StartsWith("Row 1 of the test split of splits v3 is key '2' for the candidate but '3' for the champion", order.Message);
        var label = Assert.Throws<CtBuildException>(() => TestPairing.RequireSameRows(candidate, Input(("1", true), ("2", true), ("3", true)), Snapshot));
        Assert.StartsWith("Row 1 of the test split of splits v3 (key '2') has label False for the candidate but True for the champion", label.Message);
        var count = Assert.Throws<CtBuildException>(() => TestPairing.RequireSameRows(candidate, Input(("1", true)), Snapshot));
        Assert.StartsWith("The candidate was scored on 3 rows of the test split of splits v3 and the champion on 1", count.Message);
    }
}
