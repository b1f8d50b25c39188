namespace CtBuild.Evaluation;

/// <summary>
/// The frozen lake snapshot both models were scored on, recorded in every gate decision so a
/// promotion can be traced to the exact rows that justified it.
/// </summary>
/// <param name="Table">Lake table name, e.g. <c>features</c>.</param>
/// <param name="Version">Table version (Delta log commit number).</param>
/// <param name="Split">Split the rows come from, <c>test</c> by default.</param>
public sealed record TestSnapshotRef(string Table, long Version, string Split = "test")
{
    /// <summary>"test split of features v7".</summary>
    public override string ToString() => $"{Split} split of {Table} v{Version}";
}
