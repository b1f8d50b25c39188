using System.Data.Common;
using DuckDB.NET.Data;

namespace CtBuild.Storage;

/// <summary>
/// In-process DuckDB connections. DuckDB is the engine, never the record: every connection is
/// <c>:memory:</c> and reads and writes the lake's files, so no database file is ever locked or shared.
/// </summary>
public static class DuckDb
{
    /// <summary>Opens a connection that spills to <paramref name="spillDir"/> beyond <paramref name="memoryLimit"/>.</summary>
    public static DuckDBConnection Open(string? spillDir = null, string memoryLimit = "1GB")
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        connection.Exec($"SET memory_limit = '{memoryLimit}'");
        connection.Exec("SET preserve_insertion_order = true");
        if (spillDir is not null)
        {
            Directory.CreateDirectory(spillDir);
            connection.Exec($"SET temp_directory = {Literal(spillDir)}");
        }
        return connection;
    }

    public static int Exec(this DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteNonQuery();
    }

    public static T Scalar<T>(this DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        var value = cmd.ExecuteScalar();
        return value is null or DBNull ? default! : (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a query and maps each row.</summary>
    public static List<T> Query<T>(this DuckDBConnection c, string sql, Func<DbDataReader, T> map)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(map(reader));
        return rows;
    }

    /// <summary>A SQL string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    /// <summary>A SQL identifier, quoted.</summary>
    public static string Ident(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
