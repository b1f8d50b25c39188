namespace CtBuild.Lake;

/// <summary>A version asked for is not in the table's log.</summary>
public sealed class DeltaVersionNotFoundException(string message) : CtBuildException(message);

/// <summary>Another writer committed first and its changes conflict with this write.</summary>
public sealed class DeltaConflictException(string message) : CtBuildException(message);

/// <summary>The table needs a protocol version or feature CtBuild does not support.</summary>
public sealed class DeltaProtocolException(string message) : CtBuildException(message);

/// <summary>The log is unreadable: a gap in versions, a broken commit, a missing metaData or protocol.</summary>
public sealed class DeltaLogException(string message, Exception? inner = null) : CtBuildException(message, 1, inner);

/// <summary>The data to write does not fit the table (schema, types, table properties).</summary>
public sealed class DeltaWriteException(string message) : CtBuildException(message);
