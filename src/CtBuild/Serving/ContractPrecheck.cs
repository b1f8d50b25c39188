using System.Globalization;
using CtBuild.Configuration;
using CtBuild.Ingest;

namespace CtBuild.Serving;

/// <summary>
/// Decides in C#, from the contract's rules, that records surely pass the checks <see cref="ContractColumns.FirstViolation"/>
/// runs in DuckDB, so a request of good records skips that query (planning its CASE expressions costs more CPU than
/// scoring). It only ever answers "surely good": a value it cannot judge exactly as DuckDB would (surrounding
/// whitespace, an exponent, a long number, a boolean spelled other than true/false) and any broken rule send the
/// request to DuckDB, which gives the verdict and the message. So verdicts and messages are DuckDB's in every case.
/// </summary>
public sealed class ContractPrecheck
{
    readonly ColumnRule[] _rules;

    public ContractPrecheck(IngestConfig config)
    {
        var names = config.Columns.Keys.ToList();
        var markersOf = new ContractColumns(config);
        _rules = names.Select(name =>
        {
            var c = config.Columns[name];
            // A served contract has no label column; were it there, its rules are DuckDB's to judge.
            var type = name == config.Label.Column ? "label" : c.Type;
            return new ColumnRule(type, !c.Nullable, markersOf.Markers(name).ToHashSet(StringComparer.Ordinal),
                c.Values is { Count: > 0 } v ? v.ToHashSet(StringComparer.Ordinal) : null, c.Min, c.Max);
        }).ToArray();
    }

    /// <summary>True when every record surely passes the contract (values in contract column order, as <see cref="RequestRecords"/> gives them).</summary>
    public bool SurelyPass(IReadOnlyList<string?[]> records)
    {
        foreach (var record in records)
            for (var i = 0; i < _rules.Length; i++)
                if (!_rules[i].SurelyPasses(record[i])) return false;
        return true;
    }

    sealed record ColumnRule(string Type, bool Required, HashSet<string> Markers, HashSet<string>? Allowed, double? Min, double? Max)
    {
        public bool SurelyPasses(string? raw)
        {
            if (raw is not null && raw.Length > 0 && (char.IsWhiteSpace(raw[0]) || char.IsWhiteSpace(raw[^1]))) return false; // DuckDB's trim decides
            var cleaned = raw is null || Markers.Contains(raw) ? null : raw;
            if (cleaned is null) return !Required; // NULL passes the type, range and allowed-value rules, as in SQL
            if (Allowed is not null && !Allowed.Contains(cleaned)) return false;
            switch (Type)
            {
                case "string": return Min is null && Max is null;
                case "int" when IsPlainInteger(cleaned):
                case "double" when IsPlainDecimal(cleaned):
                    var value = double.Parse(cleaned, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                    return !(value < Min) && !(value > Max);
                case "bool": return cleaned is "true" or "false" && Min is null && Max is null;
                default: return false;
            }
        }

        // Up to 15 digits: the value and its comparison with a bound are exact in a double.
        static bool IsPlainInteger(string s) => s.Length is > 0 and <= 16 && Digits(s.AsSpan(s[0] == '-' ? 1 : 0)) is >= 1 and <= 15;

        static bool IsPlainDecimal(string s)
        {
            var span = s.AsSpan(s.Length > 0 && s[0] == '-' ? 1 : 0);
            var dot = span.IndexOf('.');
            if (dot < 0) return Digits(span) is >= 1 and <= 15;
            var whole = Digits(span[..dot]);
            var fraction = Digits(span[(dot + 1)..]);
            return whole >= 1 && fraction >= 1 && whole + fraction <= 15;
        }

        /// <summary>The length when every char is an ASCII digit, else -1.</summary>
        static int Digits(ReadOnlySpan<char> s)
        {
            foreach (var ch in s) if (ch is < '0' or > '9') return -1;
            return s.Length;
        }
    }
}
