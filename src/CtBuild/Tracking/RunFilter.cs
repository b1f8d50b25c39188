using System.Globalization;
using System.Text;

namespace CtBuild.Tracking;

/// <summary>
/// Translates MLflow's run filter and order-by syntax into DuckDB SQL over the run tables
/// (<c>r</c> = run meta, <c>metric</c>/<c>param</c>/<c>tag</c> = latest values). User values
/// only ever become parameters (<c>$p0</c>, ...); keys and operators come from a fixed list.
/// </summary>
internal sealed class RunFilter
{
    public const string Grammar =
        "Supported filter grammar: <condition> [and <condition>]..., where a condition is one of\n" +
        "  metrics.<key> <op> <number>            op: = != < <= > >=\n" +
        "  params.<key> | tags.<key> <op> '<text>'   op: = != LIKE ILIKE\n" +
        "  status | run_name | run_id | parent_run_id <op> '<text>'   op: = != LIKE ILIKE (status is FINISHED, FAILED, RUNNING or KILLED)\n" +
        "  start_time | end_time <op> <milliseconds since 1970>   op: = != < <= > >=\n" +
        "A key with spaces or symbols goes in backticks: metrics.`val auc`. Attributes may be written attributes.status.\n" +
        "Example: metrics.auc > 0.9 and params.trainer = 'LightGbm' and tags.candidate = 'true' and status = 'FINISHED'\n" +
        "Order by: <key> [ASC|DESC] [, ...] with the same keys, e.g. \"metrics.auc DESC\".";

    private static readonly string[] NumericOps = ["=", "!=", "<", "<=", ">", ">="];
    private static readonly string[] TextOps = ["=", "!=", "LIKE", "ILIKE"];

    private readonly List<object> _parameters = [];

    /// <summary>Values for $p0, $p1, ... in order.</summary>
    public IReadOnlyList<object> Parameters => _parameters;

    /// <summary>A SQL boolean expression for <paramref name="filter"/>; "TRUE" when empty.</summary>
    public string Where(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter)) return "TRUE";
        var tokens = new Tokens(filter);
        var conditions = new List<string>();
        while (true)
        {
            conditions.Add(Condition(tokens));
            if (tokens.AtEnd) break;
            var and = tokens.Next();
            if (and.Kind != TokenKind.Word || !and.Text.Equals("and", StringComparison.OrdinalIgnoreCase))
                throw Error(filter, $"expected 'and' or the end at position {and.Position + 1}, found '{and.Text}'" +
                                    (and.Text.Equals("or", StringComparison.OrdinalIgnoreCase) ? " ('or' is not supported)" : ""));
        }
        return string.Join(" AND ", conditions.Select(c => $"({c})"));
    }

    /// <summary>SQL ORDER BY terms for <paramref name="orderBy"/>, ending with a tie-break on the run id (newest first).</summary>
    public string OrderBy(string? orderBy)
    {
        var terms = new List<string>();
        if (!string.IsNullOrWhiteSpace(orderBy))
        {
            foreach (var part in orderBy.Split(','))
            {
                var tokens = new Tokens(part);
                if (tokens.AtEnd) throw Error(orderBy, "empty order-by term", "Order by");
                var key = ParseKey(tokens, orderBy);
                var direction = "ASC";
                if (!tokens.AtEnd)
                {
                    var dir = tokens.Next();
                    direction = dir.Text.ToUpperInvariant();
                    if (dir.Kind != TokenKind.Word || direction is not ("ASC" or "DESC"))
                        throw Error(orderBy, $"expected ASC or DESC after {key.Display}, found '{dir.Text}'", "Order by");
                }
                if (!tokens.AtEnd) throw Error(orderBy, $"unexpected '{tokens.Next().Text}' after {key.Display}", "Order by");
                terms.Add($"{key.Sql} {direction} NULLS LAST");
            }
        }
        terms.Add("r.id DESC");
        return string.Join(", ", terms);
    }

    private string Condition(Tokens tokens)
    {
        var key = ParseKey(tokens, tokens.Source);
        if (tokens.AtEnd) throw Error(tokens.Source, $"expected an operator after {key.Display}");
        var opToken = tokens.Next();
        var op = opToken.Text.ToUpperInvariant() == "<>" ? "!=" : opToken.Text.ToUpperInvariant();
        var allowed = key.Numeric ? NumericOps : TextOps;
        if (opToken.Kind != TokenKind.Operator || !allowed.Contains(op))
            throw Error(tokens.Source, $"operator '{opToken.Text}' is not allowed for {key.Display}; use one of {string.Join(" ", allowed)}");
        if (tokens.AtEnd) throw Error(tokens.Source, $"expected a value after {key.Display} {opToken.Text}");
        var value = tokens.Next();
        object parameter;
        if (key.Numeric)
        {
            if (value.Kind != TokenKind.Number)
                throw Error(tokens.Source, $"{key.Display} compares with a number, found '{value.Text}'");
            parameter = double.Parse(value.Text, CultureInfo.InvariantCulture);
        }
        else
        {
            if (value.Kind != TokenKind.Text)
                throw Error(tokens.Source, $"{key.Display} compares with a quoted string like 'value', found '{value.Text}'");
            parameter = value.Text;
        }
        var p = Add(parameter);
        if (key.Table is null)
            return key.Attribute == "status" ? $"upper({key.Sql}) {op} upper({p})" : $"{key.Sql} {op} {p}";
        // A condition on a missing metric/param/tag is false, as in MLflow.
        return $"EXISTS (SELECT 1 FROM {key.Table} x WHERE x.run = r.id AND x.key = {key.KeyParameter} AND x.value {op} {p})";
    }

    private FilterKey ParseKey(Tokens tokens, string source)
    {
        var token = tokens.Next();
        if (token.Kind != TokenKind.Word) throw Error(source, $"expected a key like metrics.auc at position {token.Position + 1}, found '{token.Text}'");
        var dot = token.Text.IndexOf('.');
        var prefix = dot < 0 ? "attributes" : token.Text[..dot].ToLowerInvariant();
        var name = dot < 0 ? token.Text : token.Text[(dot + 1)..];
        if (name.Length == 0 && !tokens.AtEnd && tokens.Peek().Kind == TokenKind.Quoted)
            name = tokens.Next().Text; // metrics.`my key`
        if (name.Length == 0) throw Error(source, $"key '{token.Text}' has no name after the dot");

        switch (prefix)
        {
            case "metrics" or "metric":
                return Latest("metric", $"metrics.{name}", name, numeric: true);
            case "params" or "param" or "parameters":
                return Latest("param", $"params.{name}", name, numeric: false);
            case "tags" or "tag":
                return Latest("tag", $"tags.{name}", name, numeric: false);
            case "attributes" or "attribute" or "attr" or "run":
                var attribute = name.ToLowerInvariant();
                return attribute switch
                {
                    "status" => new FilterKey(attribute, null, null, false, attribute, "r.status"),
                    "run_name" or "name" => new FilterKey(attribute, null, null, false, attribute, "r.name"),
                    "run_id" or "id" => new FilterKey(attribute, null, null, false, attribute, "r.id"),
                    "parent_run_id" => new FilterKey(attribute, null, null, false, attribute, "r.parentRunId"),
                    "start_time" => new FilterKey(attribute, null, null, true, attribute, "epoch_ms(CAST(r.startTime AS TIMESTAMPTZ))"),
                    "end_time" => new FilterKey(attribute, null, null, true, attribute, "epoch_ms(CAST(r.endTime AS TIMESTAMPTZ))"),
                    _ => throw Error(source, $"unknown attribute '{name}'"),
                };
            default:
                throw Error(source, $"unknown key '{token.Text}'");
        }
    }

    private FilterKey Latest(string table, string display, string name, bool numeric)
    {
        var key = Add(name);
        return new FilterKey(display, table, key, numeric, null, $"(SELECT x.value FROM {table} x WHERE x.run = r.id AND x.key = {key})");
    }

    private string Add(object value)
    {
        _parameters.Add(value);
        return $"$p{_parameters.Count - 1}";
    }

    private static TrackingException Error(string source, string what, string kind = "Filter") =>
        new($"{kind} \"{source}\" is not valid: {what}.\n{Grammar}", exitCode: 2);

    private enum TokenKind { Word, Number, Text, Quoted, Operator }

    private sealed record Token(TokenKind Kind, string Text, int Position);

    private sealed class Tokens
    {
        private readonly List<Token> _tokens;
        private int _index;

        public Tokens(string source)
        {
            Source = source;
            _tokens = Lex(source);
        }

        public string Source { get; }
        public bool AtEnd => _index >= _tokens.Count;
        public Token Peek() => _tokens[_index];

        public Token Next() => AtEnd
            ? throw Error(Source, "it ends too early")
            : _tokens[_index++];

        private static List<Token> Lex(string s)
        {
            var tokens = new List<Token>();
            var i = 0;
            while (i < s.Length)
            {
                var c = s[i];
                if (char.IsWhiteSpace(c)) { i++; continue; }
                var start = i;
                if (c is '\'' or '"' or '`')
                {
                    var text = new StringBuilder();
                    i++;
                    while (true)
                    {
                        if (i >= s.Length) throw Error(s, $"the quote opened at position {start + 1} is not closed");
                        if (s[i] == c)
                        {
                            if (i + 1 < s.Length && s[i + 1] == c) { text.Append(c); i += 2; continue; } // '' escapes '
                            i++;
                            break;
                        }
                        text.Append(s[i++]);
                    }
                    // A quote right after "metrics." continues the key; elsewhere backticks quote keys, quotes quote values.
                    var kind = c == '`' || (tokens.Count > 0 && tokens[^1].Kind == TokenKind.Word && tokens[^1].Text.EndsWith('.') && start > 0 && s[start - 1] == '.')
                        ? TokenKind.Quoted : TokenKind.Text;
                    tokens.Add(new Token(kind, text.ToString(), start));
                }
                else if (char.IsDigit(c) || ((c is '-' or '+' or '.') && i + 1 < s.Length && (char.IsDigit(s[i + 1]) || s[i + 1] == '.')))
                {
                    i++;
                    while (i < s.Length && (char.IsDigit(s[i]) || s[i] is '.' or 'e' or 'E' ||
                                            (s[i] is '-' or '+' && s[i - 1] is 'e' or 'E'))) i++;
                    var text = s[start..i];
                    if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                        throw Error(s, $"'{text}' at position {start + 1} is not a number");
                    tokens.Add(new Token(TokenKind.Number, text, start));
                }
                else if (char.IsLetter(c) || c == '_')
                {
                    while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] is '_' or '.' or '-' or ':' or '/')) i++;
                    tokens.Add(new Token(TokenKind.Word, s[start..i], start));
                }
                else if (c is '=' or '!' or '<' or '>')
                {
                    i++;
                    if (i < s.Length && (s[i] == '=' || (c == '<' && s[i] == '>'))) i++;
                    var op = s[start..i];
                    if (op == "!") throw Error(s, $"'!' at position {start + 1} must be '!='");
                    tokens.Add(new Token(TokenKind.Operator, op, start));
                }
                else throw Error(s, $"unexpected character '{c}' at position {start + 1}");
            }
            // LIKE / ILIKE are words; treat them as operators.
            return tokens.Select(t => t.Kind == TokenKind.Word && t.Text.ToUpperInvariant() is "LIKE" or "ILIKE"
                ? t with { Kind = TokenKind.Operator } : t).ToList();
        }
    }
}

/// <summary>A key in a filter: where its value lives and how it compares.</summary>
/// <param name="Table">metric, param or tag; null for a run attribute.</param>
/// <param name="Sql">An expression for the key's value of run r.</param>
internal sealed record FilterKey(string Display, string? Table, string? KeyParameter, bool Numeric, string? Attribute, string Sql);
