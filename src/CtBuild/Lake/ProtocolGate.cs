namespace CtBuild.Lake;

/// <summary>
/// Refuses tables whose protocol asks for more than CtBuild implements: reader version 1 (plus
/// reader version 3 with an empty feature list, as Delta Kernel does) and writer version 2.
/// </summary>
internal static class ProtocolGate
{
    public static void CheckRead(ProtocolAction protocol, MetadataAction metadata, string table, long version)
    {
        switch (protocol.MinReaderVersion)
        {
            case 1:
                return;
            case 2:
                var mode = metadata.Configuration.GetValueOrDefault("delta.columnMapping.mode", "none");
                throw new DeltaProtocolException(
                    $"Table {table} at version {version} needs reader version 2 (columnMapping, mode '{mode}'): its parquet " +
                    "columns have physical names CtBuild cannot map. CtBuild reads reader version 1 only; rewrite the table " +
                    "without column mapping (e.g. with Spark) or read it with a Delta engine that supports it.");
            case 3 when protocol.ReaderFeatures.Count > 0:
                throw new DeltaProtocolException(
                    $"Table {table} at version {version} needs reader features [{string.Join(", ", protocol.ReaderFeatures)}], " +
                    "which CtBuild does not support (it reads plain reader-version-1 tables). " +
                    "Rewrite the table without those features or read it with a Delta engine that supports them.");
            case 3:
                return; // table-features form with no reader feature listed: nothing to understand beyond v1
            default:
                throw new DeltaProtocolException(
                    $"Table {table} at version {version} has minReaderVersion {protocol.MinReaderVersion}, which CtBuild " +
                    "does not know (it supports 1, and 3 without reader features). Use a newer Delta reader.");
        }
    }

    public static void CheckWrite(ProtocolAction protocol, MetadataAction metadata, string table)
    {
        if (protocol.MinWriterVersion > 2)
            throw new DeltaProtocolException(
                $"Table {table} has minWriterVersion {protocol.MinWriterVersion}; CtBuild writes only writer version 2 tables. " +
                "Write to a new table, or use a Delta engine that supports that writer version.");
        if (DeltaSchema.HasInvariants(metadata.SchemaString))
            throw new DeltaProtocolException(
                $"Table {table} has column invariants (delta.invariants), which CtBuild cannot enforce. Write to a new table.");
    }
}
