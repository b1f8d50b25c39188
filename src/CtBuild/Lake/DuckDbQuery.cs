using DuckDB.NET.Data;

namespace CtBuild.Lake;

/// <summary>Runs SQL on a DuckDB connection and returns plain rows; opens scratch in-memory connections.</summary>
internal static class DuckDbQuery
{
    private static readonly Lazy<DuckDBConnection> SharedDatabase = new(OpenInMemory);
    private static readonly Lock SharedLock = new();

    /// <summary>
    /// A new connection to one in-memory database kept for the process: opening a fresh database costs tens of
    /// milliseconds on a busy machine, a connection to an open one microseconds. For queries over files
    /// (checkpoints, footers) that create nothing in the database; dispose it after use.
    /// </summary>
    public static DuckDBConnection OpenShared()
    {
        lock (SharedLock)
        {
            var connection = SharedDatabase.Value.Duplicate();
            connection.Open();
            return connection;
        }
    }

    public static DuckDBConnection OpenInMemory()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        return connection;
    }

    public static List<object?[]> Rows(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    public static object? Scalar(DuckDBConnection connection, string sql) => Rows(connection, sql).FirstOrDefault()?[0];

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static string ListLiteral(IEnumerable<string> values) => "[" + string.Join(", ", values.Select(DeltaSchema.Literal)) + "]";
}
