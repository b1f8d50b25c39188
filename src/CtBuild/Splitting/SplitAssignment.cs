using System.Globalization;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Splitting;

/// <summary>
/// What Split hashes to give a row its split, and how duplicates fare. The label is never hashed, so which
/// split a row lands in cannot depend on its class:
/// <list type="bullet">
/// <item><c>split.key</c> set: the key. Rows with the same key share a split.</item>
/// <item>no key, and the features carry Ingest's <c>_source_sha256</c> and <c>_source_line</c>: the row's identity
/// (the delivered file's content hash and the line). Every delivered row is placed on its own, so copies of
/// one row in several lines or files may land in different splits.</item>
/// <item>no key and no identity: every column except the label. Identical rows share a split.</item>
/// </list>
/// The unit value is the first 8 hex digits of md5(salt|value) over 2^32: stable across DuckDB versions, unlike hash().
/// </summary>
public sealed record SplitAssignment(IReadOnlyList<string> HashedColumns, SplitBasis Basis)
{
    /// <summary>Ingest's lineage columns that identify a delivered row: the capture's content hash and its line.</summary>
    public static readonly IReadOnlyList<string> RowIdentity = ["_source_sha256", "_source_line"];

    public static SplitAssignment For(string? key, IReadOnlyList<string> columns, string label)
    {
        if (key is not null) return new([key], SplitBasis.Key);
        if (RowIdentity.All(columns.Contains)) return new(RowIdentity, SplitBasis.RowIdentity);
        return new(columns.Where(c => c != label).ToList(), SplitBasis.ColumnsButLabel);
    }

    /// <summary>The text hashed for a row of the relation aliased <paramref name="alias"/>.</summary>
    public string HashedSql(string alias) => Basis switch
    {
        // One column keeps the original text so keyed splits stay where they were.
        SplitBasis.Key => $"CAST({alias}.{Ident(HashedColumns[0])} AS VARCHAR)",
        _ => $"CAST(row({string.Join(", ", HashedColumns.Select(c => $"{alias}.{Ident(c)}"))}) AS VARCHAR)",
    };

    /// <summary>A number in [0, 1) per row: its place on the train / valid / test line.</summary>
    public string UnitSql(string salt, string alias) =>
        $"CAST(('0x' || substr(md5({Literal(salt + "|")} || {HashedSql(alias)}), 1, 8)) AS UBIGINT) / 4294967296.0";

    /// <summary>The split column's CASE over the ratios.</summary>
    public string SplitSql(string salt, double train, double valid, string alias)
    {
        string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        var unit = UnitSql(salt, alias);
        return $"CASE WHEN {unit} < {F(train)} THEN 'train' WHEN {unit} < {F(train + valid)} THEN 'valid' ELSE 'test' END";
    }

    /// <summary>For the commit and the log: what was hashed.</summary>
    public string Describe() => Basis switch
    {
        SplitBasis.Key => $"key {HashedColumns[0]}",
        SplitBasis.RowIdentity => "row identity (_source_sha256, _source_line)",
        _ => "every column but the label",
    };

    /// <summary>What happens to duplicates, in words, given how many rows repeat another one's hashed value.</summary>
    public string DuplicatesNote(long repeated) => Basis switch
    {
        SplitBasis.Key => repeated == 0 ? "" : $"{repeated} rows repeat another row's key and share its split",
        SplitBasis.RowIdentity => "each delivered row is placed on its own (copies of a row in other lines or files may land in other splits)",
        _ => repeated == 0 ? "" : $"{repeated} rows are identical to another one (label aside) and share its split",
    };
}

public enum SplitBasis { Key, RowIdentity, ColumnsButLabel }
