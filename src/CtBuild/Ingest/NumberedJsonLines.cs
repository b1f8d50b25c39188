using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CtBuild.Ingest;

/// <summary>What kinds of JSON value one top-level key held, over the lines of a file.</summary>
[Flags]
public enum JsonValueKinds
{
    None = 0,
    Null = 1,
    /// <summary>A number written as an integer that fits a BIGINT (not <c>-0</c>, no fraction or exponent).</summary>
    Integer = 2,
    /// <summary>Any other finite number.</summary>
    Number = 4,
    String = 8,
    Bool = 16,
    /// <summary>An object, an array, or a number too large for a double.</summary>
    Other = 32,
}

/// <summary>
/// The numbered copy of a JSON-lines file: each object gets its line number written into it as its first key
/// (<see cref="NumberedCsv.LineColumn"/>), so DuckDB's parallel JSON reader hands every object over with its line, typed
/// by the keys this pass found (<see cref="NumberedCsv.JsonKeys"/>, in order of first appearance) and read in the
/// contract's types where every value already has it (<see cref="NumberedCsv.JsonKinds"/>): one parse per object, no
/// scan for keys. A line that is not one JSON object (to .NET's strict reader) or not valid UTF-8 goes to
/// <see cref="NumberedCsv.NotObjects"/> instead, prefixed by its number and <see cref="LineSeparator"/>, to be quarantined.
/// </summary>
/// <remarks>
/// Every line keeps its place and grows by the same number of bytes: the number has a fixed width (right-aligned,
/// padded with spaces, which JSON allows), and a line that is blank or not one object becomes spaces, which DuckDB skips.
/// So each part of a large file, numbered on a core of its own, knows where its copy starts in the one output file.
/// One file, because DuckDB's <c>read_json</c> of a list of part files costs more than the parts save (2M rows, two
/// parts: 3.6–5.3 s against 2.9–3.4 s for one file).
/// </remarks>
public static class NumberedJsonLines
{
    /// <summary>The separator after the number of a line that is not a JSON object: a control byte JSON text never holds unescaped.</summary>
    public const char LineSeparator = '\x01';

    static readonly byte[] Key = Encoding.UTF8.GetBytes($"\"{NumberedCsv.LineColumn}\":");

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/>, numbered, in at most <paramref name="parts"/> parts on
    /// threads of their own (<see cref="NumberedCsv.PartsFor"/> picks one per core for a large file); the copy is the same
    /// whatever the number.
    /// </summary>
    public static NumberedCsv Write(string source, string target, int parts)
    {
        List<long> cuts;
        long[] newlines;
        long size;
        using (var handle = File.OpenHandle(source))
        {
            size = RandomAccess.GetLength(handle);
            (cuts, newlines) = (parts > 1 ? NumberedCsv.Cut(handle, 0, parts) : null) ?? ([0L, size], [0]); // one part needs no count
        }
        var count = cuts.Count - 1;
        var width = (size + 1).ToString(CultureInfo.InvariantCulture).Length; // a file of n bytes has at most n + 1 lines
        var grow = Growth(width);
        using (File.Create(target)) { }
        var others = Enumerable.Range(0, count).Select(k => k == 0 ? target + ".not-objects" : $"{target}.not-objects{k}").ToList();
        var numbered = new JsonPart[count];
        NumberedCsv.OnThreads(count, k =>
        {
            var linesBefore = newlines.Take(k).Sum();
            numbered[k] = NumberPart(source, cuts[k], cuts[k + 1] - cuts[k], target, cuts[k] + grow * linesBefore, others[k], firstLine: 1 + linesBefore, width);
        });
        for (var k = 0; k < count - 1; k++)
            if (numbered[k].Lines != newlines[k]) // each part but the last ends at a newline, so its copy ends where the next one starts
                throw new InvalidOperationException($"numbering the JSON lines of {source}: part {k} has {numbered[k].Lines} lines, not {newlines[k]}");

        var keys = new List<string>();
        var kinds = new Dictionary<string, JsonValueKinds>(StringComparer.Ordinal);
        foreach (var part in numbered)
            foreach (var (key, kind) in part.Keys.Zip(part.Kinds))
            {
                if (!kinds.ContainsKey(key)) keys.Add(key);
                kinds[key] = kinds.GetValueOrDefault(key) | kind;
            }
        var records = numbered.Sum(p => p.Records);
        return new NumberedCsv(target, [], records == 0, records, records, null, null)
        {
            JsonKeys = keys, JsonKinds = kinds, JsonObjects = [target], NotObjects = others, NotObjectLines = numbered.Sum(p => p.NotObjects),
            Files = [target, .. others],
        };
    }

    /// <summary>What numbering one part found: its keys in order of first appearance with their kinds, its lines (blank ones too), records and lines that are not objects.</summary>
    sealed record JsonPart(IReadOnlyList<string> Keys, IReadOnlyList<JsonValueKinds> Kinds, long Lines, long Records, long NotObjects);

    /// <summary>Numbers the <paramref name="length"/> bytes of <paramref name="source"/> from <paramref name="from"/> into <paramref name="target"/> at <paramref name="at"/>.</summary>
    static JsonPart NumberPart(string source, long from, long length, string target, long at, string others, long firstLine, int width)
    {
        using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1) { Position = from };
        var input = new NumberedCsv.Slice(file, length);
        using var output = new FileStream(target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, NumberedCsv.BufferSize) { Position = at };
        using var otherOutput = new FileStream(others, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[NumberedCsv.BufferSize];
        Span<byte> number = stackalloc byte[24];
        var keys = new JsonKeyList();
        long line = firstLine, records = 0, notObjects = 0;
        var (filled, pos, eof) = (0, 0, false);
        while (true)
        {
            var newline = buffer.AsSpan(pos, filled - pos).IndexOf((byte)'\n');
            if (newline < 0 && !eof)
            {
                // An unfinished line: keep it whole at the buffer's start (a line longer than the buffer grows it) and read on.
                var rest = filled - pos;
                if (pos == 0 && rest == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                else buffer.AsSpan(pos, rest).CopyTo(buffer);
                var read = NumberedCsv.Fill(input, buffer, rest);
                (filled, pos, eof) = (rest + read, 0, rest + read < buffer.Length);
                continue;
            }
            var end = newline < 0 ? filled : pos + newline;
            if (end == pos && newline < 0) break; // nothing after the last newline
            var text = buffer.AsSpan(pos, end - pos);
            var blank = text.Length == 0 || (text.Length == 1 && text[0] == '\r');
            var open = blank ? -1 : System.Text.Unicode.Utf8.IsValid(text) ? keys.ReadObject(text) : -1;
            if (open >= 0)
            {
                // {"_ctb_source_line":     7,"a":1} : the number goes right after the object's opening brace.
                output.Write(text[..(open + 1)]);
                output.Write(Key);
                Utf8Formatter.TryFormat(line, number, out var digits);
                WriteSpaces(output, width - digits);
                output.Write(number[..digits]);
                output.WriteByte(keys.LastHadKeys ? (byte)',' : (byte)' ');
                output.Write(text[(open + 1)..]);
            }
            else
            {
                WriteSpaces(output, text.Length + Growth(width));
                if (!blank)
                {
                    Utf8Formatter.TryFormat(line, number, out var written);
                    number[written++] = (byte)LineSeparator;
                    otherOutput.Write(number[..written]);
                    otherOutput.Write(text);
                    otherOutput.WriteByte((byte)'\n');
                    notObjects++;
                }
            }
            output.WriteByte((byte)'\n');
            if (!blank) records++;
            line++;
            if (newline < 0) break;
            pos = end + 1;
        }
        return new JsonPart(keys.Names, keys.Kinds, line - firstLine, records, notObjects);
    }

    /// <summary>How many bytes every line grows by: the key, the number, and a comma (a space after the number of an empty object).</summary>
    static int Growth(int width) => Key.Length + width + 1;

    static readonly byte[] Spaces = Enumerable.Repeat((byte)' ', 4096).ToArray();

    static void WriteSpaces(Stream output, int count)
    {
        for (; count > 0; count -= Spaces.Length) output.Write(Spaces, 0, Math.Min(count, Spaces.Length));
    }

    /// <summary>Reads one line as a JSON object and notes its top-level keys and the kinds of their values.</summary>
    sealed class JsonKeyList
    {
        readonly List<string> _names = [];
        readonly List<byte[]> _utf8 = [];
        readonly List<JsonValueKinds> _kinds = [];
        readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

        public IReadOnlyList<string> Names => _names;
        public IReadOnlyList<JsonValueKinds> Kinds => _kinds;

        /// <summary>Whether the last object read had any key.</summary>
        public bool LastHadKeys { get; private set; }

        /// <summary>
        /// Where the object's opening brace is in the line, or -1 when the line is not one JSON object. The kinds of a line
        /// found not to be an object may already be noted: that only keeps a column on the text path.
        /// </summary>
        public int ReadObject(ReadOnlySpan<byte> line)
        {
            LastHadKeys = false;
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 1024 });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return -1;
                var open = (int)reader.TokenStartIndex;
                for (var k = 0; reader.Read() && reader.TokenType == JsonTokenType.PropertyName; k++)
                {
                    LastHadKeys = true;
                    // Lines usually repeat the same keys in the same order: compare bytes before making a string.
                    var index = !reader.ValueIsEscaped && k < _utf8.Count && reader.ValueSpan.SequenceEqual(_utf8[k]) ? k : IndexOf(reader.GetString()!);
                    reader.Read();
                    _kinds[index] |= KindOf(ref reader);
                    reader.Skip(); // past a nested object or array; nothing for a plain value
                }
                if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0) return -1;
                return reader.Read() ? -1 : open; // anything after the object (other than white space) throws
            }
            catch (JsonException)
            {
                return -1;
            }
        }

        static JsonValueKinds KindOf(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.Null: return JsonValueKinds.Null;
                case JsonTokenType.True or JsonTokenType.False: return JsonValueKinds.Bool;
                case JsonTokenType.String: return JsonValueKinds.String;
                case JsonTokenType.Number:
                    var token = reader.ValueSpan;
                    var exponent = token.IndexOfAny((byte)'e', (byte)'E') >= 0;
                    if (!exponent && token.IndexOf((byte)'.') < 0 && reader.TryGetInt64(out var n) && !(n == 0 && token[0] == '-'))
                        return JsonValueKinds.Integer;
                    // Only an exponent or hundreds of digits take a number past a double's range: parse just those.
                    if (!exponent && token.Length < 300) return JsonValueKinds.Number;
                    return reader.TryGetDouble(out var d) && double.IsFinite(d) ? JsonValueKinds.Number : JsonValueKinds.Other;
                default: return JsonValueKinds.Other;
            }
        }

        int IndexOf(string name)
        {
            if (_index.TryGetValue(name, out var index)) return index;
            _index[name] = _names.Count;
            _names.Add(name);
            _utf8.Add(Encoding.UTF8.GetBytes(name));
            _kinds.Add(JsonValueKinds.None);
            return _names.Count - 1;
        }
    }
}
