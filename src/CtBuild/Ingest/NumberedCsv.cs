using System.Buffers.Text;
using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace CtBuild.Ingest;

/// <summary>
/// A working copy of a CSV file with each record's source line as an extra first field.
/// DuckDB reports the line of the rows it rejects but not of the rows it accepts, and numbering rows in
/// the query (<c>row_number() OVER ()</c>) puts its CSV reader on one thread; with the number in the text,
/// the parallel reader carries every row's line for free, and the good rows stream straight to Parquet.
/// A record whose quoted field holds newlines is numbered by the line it starts on. The scan also counts
/// every physical line, so Ingest can check that each one ended up in raw or quarantine.
/// </summary>
/// <param name="Records">Records numbered in the copy (a record spans more than one line when a quoted field holds a newline).</param>
/// <param name="DataLines">Non-blank physical lines after the header, those of the unterminated tail included.</param>
/// <param name="FirstMultiLineRecord">The line of the first record that spans lines, if any: where DuckDB and this scan could disagree.</param>
/// <param name="Unterminated">A quote still open at the end of the file: the lines from its record on are not in the copy.</param>
public sealed record NumberedCsv(string Path, IReadOnlyList<string> Header, bool Empty, long Records, long DataLines,
    long? FirstMultiLineRecord, UnterminatedQuote? Unterminated)
{
    /// <summary>The added first column. Blank lines get no number: DuckDB skips them, as it does in the original.</summary>
    public const string LineColumn = "_ctb_source_line";

    const int BufferSize = 1 << 20;

    /// <summary>The captured bytes, decompressed when the delivery was gzipped, read sequentially.</summary>
    static Stream OpenInput(RawFile file, string source) => file.Format == RawFormat.CsvGzip
        ? new GZipStream(File.OpenRead(source), CompressionMode.Decompress)
        : new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);

    /// <summary>Copies <paramref name="source"/> (the captured bytes of <paramref name="file"/>) to <paramref name="target"/>, numbered.</summary>
    public static NumberedCsv Write(RawFile file, string source, string target)
    {
        using var input = OpenInput(file, source);
        using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
        var buffer = new byte[BufferSize];
        var filled = Fill(input, buffer, 0);
        var eof = filled < buffer.Length;
        if (filled == 0) return new NumberedCsv(target, [], true, 0, 0, null, null);

        // The header, without a byte-order mark (it would end up inside the added column's name).
        var pos = filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF ? 3 : 0;
        var header = new MemoryStream();
        while (true)
        {
            var newline = buffer.AsSpan(pos, filled - pos).IndexOf((byte)'\n');
            if (newline >= 0) { header.Write(buffer, pos, newline); pos += newline + 1; break; }
            header.Write(buffer, pos, filled - pos);
            if (eof) { pos = filled; break; }
            filled = Fill(input, buffer, 0);
            eof = filled < buffer.Length;
            pos = 0;
        }
        var names = Fields(Encoding.UTF8.GetString(header.ToArray()).TrimEnd('\r').TrimStart('\uFEFF'));
        output.Write("_ctb_source_line,"u8);
        output.Write(header.GetBuffer(), 0, (int)header.Length);
        output.WriteByte((byte)'\n');

        Span<byte> number = stackalloc byte[24];
        long line = 2, records = 0, dataLines = 0, recordLine = 0, recordOffset = 0, quoteLine = 0;
        long? firstMultiLine = null;
        var inQuotes = false;
        var atLineStart = true;
        while (true)
        {
            if (pos == filled || (atLineStart && filled - pos < 2 && !eof))
            {
                // Refill, keeping a line's first byte with the one after it to tell a blank "\r\n" from a record.
                var rest = filled - pos;
                buffer.AsSpan(pos, rest).CopyTo(buffer);
                filled = rest + (eof ? 0 : Fill(input, buffer, rest));
                eof = filled < buffer.Length;
                pos = 0;
                if (filled == 0) break;
            }
            var segment = pos;
            while (pos < filled)
            {
                if (atLineStart)
                {
                    if (filled - pos < 2 && !eof) break;
                    atLineStart = false;
                    var blank = buffer[pos] == '\n' || (buffer[pos] == '\r' && pos + 1 < filled && buffer[pos + 1] == '\n');
                    if (!blank && !inQuotes)
                    {
                        output.Write(buffer, segment, pos - segment);
                        segment = pos;
                        (recordLine, recordOffset) = (line, output.Position);
                        Utf8Formatter.TryFormat(line, number, out var written);
                        number[written++] = (byte)',';
                        output.Write(number[..written]);
                        records++;
                    }
                    if (!blank) dataLines++;
                }
                var next = buffer.AsSpan(pos, filled - pos).IndexOfAny((byte)'"', (byte)'\n');
                if (next < 0) { pos = filled; break; }
                pos += next;
                if (buffer[pos] == '"')
                {
                    inQuotes = !inQuotes; // "" inside quotes toggles twice: no net change
                    if (inQuotes) quoteLine = line;
                }
                else
                {
                    if (inQuotes) firstMultiLine ??= recordLine;
                    line++;
                    atLineStart = true;
                }
                pos++;
            }
            output.Write(buffer, segment, pos - segment);
        }
        if (!inQuotes) return new NumberedCsv(target, names, false, records, dataLines, firstMultiLine, null);
        // The quote never closes: its record and every line after it are left for quarantine, line by line.
        return new NumberedCsv(target, names, false, records - 1, dataLines,
            firstMultiLine == recordLine ? null : firstMultiLine, new UnterminatedQuote(quoteLine, recordLine, recordOffset));
    }

    /// <summary>
    /// The physical lines (number, text) from the unterminated quote's record on, read back from the copy, and then
    /// cut off the copy so DuckDB reads only the records before it. Blank lines are skipped, as everywhere.
    /// </summary>
    public IEnumerable<(long Line, string Text)> TakeUnterminatedTail()
    {
        if (Unterminated is not { } tail) yield break;
        using (var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize))
        {
            stream.Position = tail.Offset;
            foreach (var (line, text) in Lines(stream, tail.FromLine))
                yield return (line, line == tail.FromLine ? text[(text.IndexOf(',') + 1)..] : text); // without the number this copy added
        }
        using var truncate = new FileStream(Path, FileMode.Open, FileAccess.Write);
        truncate.SetLength(tail.Offset);
    }

    /// <summary>The separator after the number in a numbered JSON-lines copy: a control byte JSON text never holds unescaped.</summary>
    public const char JsonLineSeparator = '\x01';

    /// <summary>
    /// Copies a JSON-lines file with each non-blank line prefixed by its number and <see cref="JsonLineSeparator"/>,
    /// so DuckDB's parallel CSV reader hands every line over with its number (as for a CSV file). The same pass
    /// reads each line's top-level keys (<see cref="JsonKeys"/>, in order of first appearance) and numbers a line that
    /// is not one JSON object with a minus sign, so DuckDB neither scans the file for its keys nor parses a line to
    /// learn whether it is an object: it parses each good line once, for its values.
    /// </summary>
    public static NumberedCsv WriteJsonLines(RawFile file, string source, string target)
    {
        using var input = OpenInput(file, source);
        using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
        var buffer = new byte[BufferSize];
        Span<byte> number = stackalloc byte[24];
        var keys = new JsonKeyList();
        long line = 1, records = 0;
        var filled = 0;
        var eof = false;
        var pos = 0;
        while (true)
        {
            var newline = buffer.AsSpan(pos, filled - pos).IndexOf((byte)'\n');
            if (newline < 0 && !eof)
            {
                // An unfinished line: keep it whole at the buffer's start (a line longer than the buffer grows it) and read on.
                var rest = filled - pos;
                if (pos == 0 && rest == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                else buffer.AsSpan(pos, rest).CopyTo(buffer);
                var read = Fill(input, buffer, rest);
                (filled, pos, eof) = (rest + read, 0, rest + read < buffer.Length);
                continue;
            }
            var end = newline < 0 ? filled : pos + newline;
            if (end == pos && newline < 0) break; // nothing after the last newline
            var text = buffer.AsSpan(pos, end - pos);
            var blank = text.Length == 0 || (text.Length == 1 && text[0] == '\r');
            if (!blank)
            {
                var written = 0;
                if (!keys.ReadObject(text)) number[written++] = (byte)'-';
                Utf8Formatter.TryFormat(line, number[written..], out var digits);
                written += digits;
                number[written++] = (byte)JsonLineSeparator;
                output.Write(number[..written]);
                records++;
            }
            output.Write(buffer, pos, end - pos + (newline < 0 ? 0 : 1));
            if (newline < 0) break;
            pos = end + 1;
            line++;
        }
        return new NumberedCsv(target, [], records == 0, records, records, null, null) { JsonKeys = keys.Names };
    }

    /// <summary>The top-level keys of a JSON-lines file's objects, in order of first appearance (JSON lines only).</summary>
    public IReadOnlyList<string> JsonKeys { get; init; } = [];

    /// <summary>Reads one line as a JSON object and notes its top-level keys; false when the line is anything else.</summary>
    sealed class JsonKeyList
    {
        readonly List<string> _names = [];
        readonly List<byte[]> _utf8 = [];
        readonly HashSet<string> _seen = new(StringComparer.Ordinal);

        public IReadOnlyList<string> Names => _names;

        public bool ReadObject(ReadOnlySpan<byte> line)
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 1024 });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
                for (var k = 0; reader.Read() && reader.TokenType == JsonTokenType.PropertyName; k++)
                {
                    // Lines usually repeat the same keys in the same order: compare bytes before making a string.
                    if (reader.ValueIsEscaped || k >= _utf8.Count || !reader.ValueSpan.SequenceEqual(_utf8[k])) Note(reader.GetString()!);
                    reader.Skip();
                }
                if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0) return false;
                return !reader.Read(); // anything after the object (other than white space) throws
            }
            catch (JsonException)
            {
                return false;
            }
        }

        void Note(string name)
        {
            if (!_seen.Add(name)) return;
            _names.Add(name);
            _utf8.Add(Encoding.UTF8.GetBytes(name));
        }
    }

    /// <summary>The non-blank physical lines of a stream (number, text without its line ending), numbered from <paramref name="firstLine"/>.</summary>
    public static IEnumerable<(long Line, string Text)> Lines(Stream stream, long firstLine)
    {
        var buffered = new BufferedStream(stream, BufferSize);
        var text = new MemoryStream();
        var line = firstLine;
        int b;
        do
        {
            b = buffered.ReadByte();
            if (b >= 0 && b != '\n') { text.WriteByte((byte)b); continue; }
            var length = (int)text.Length;
            if (length > 0 && text.GetBuffer()[length - 1] == '\r') length--;
            if (length > 0) yield return (line, Encoding.UTF8.GetString(text.GetBuffer(), 0, length));
            text.SetLength(0);
            line++;
        } while (b >= 0);
    }

    /// <summary>The fields of one CSV line (without its newline), quotes removed and names trimmed.</summary>
    internal static List<string> Fields(string text)
    {
        var names = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { names.Add(field.ToString().Trim()); field.Clear(); }
            else field.Append(c);
        }
        names.Add(field.ToString().Trim());
        return names;
    }

    /// <summary>How many fields a rejected record has, for a reason that says "expected 17 fields, found 14".</summary>
    public static int FieldCount(string record) => Fields(record.TrimEnd('\r', '\n')).Count;

    /// <summary>Reads until the buffer is full or the stream ends (GZip streams return short reads).</summary>
    static int Fill(Stream input, byte[] buffer, int offset)
    {
        var total = 0;
        int read;
        while (offset + total < buffer.Length && (read = input.Read(buffer, offset + total, buffer.Length - offset - total)) > 0)
            total += read;
        return total;
    }
}

/// <summary>A quote opened on <paramref name="OpenedAtLine"/> and never closed; its record starts on <paramref name="FromLine"/>, at <paramref name="Offset"/> in the copy.</summary>
public sealed record UnterminatedQuote(long OpenedAtLine, long FromLine, long Offset);
