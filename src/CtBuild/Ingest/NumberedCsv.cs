using System.Buffers.Text;
using System.IO.Compression;
using System.Text;

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

    internal const int BufferSize = 1 << 20;

    /// <summary>The captured bytes, decompressed when the delivery was gzipped, read sequentially.</summary>
    static Stream OpenInput(RawFile file, string source) => file.Format == RawFormat.CsvGzip
        ? new GZipStream(File.OpenRead(source), CompressionMode.Decompress)
        : new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);

    /// <summary>
    /// Below this many bytes a part, a plain CSV file is numbered by one thread: splitting it gains less than the
    /// threads and the extra newline count cost.
    /// </summary>
    internal const long MinPartBytes = 32 << 20;

    /// <summary>
    /// Copies <paramref name="source"/> (the captured bytes of <paramref name="file"/>) to <paramref name="target"/>, numbered.
    /// A large plain CSV file is numbered in parts on every core (see <see cref="WriteInParts"/>).
    /// </summary>
    public static NumberedCsv Write(RawFile file, string source, string target) =>
        Write(file, source, target, file.Format == RawFormat.Csv ? PartsFor(file.Size) : 1);

    /// <summary>The same, in at most <paramref name="parts"/> parts; the result is the same whatever the number.</summary>
    internal static NumberedCsv Write(RawFile file, string source, string target, int parts)
    {
        if (parts > 1 && WriteInParts(file, source, target, parts) is { } split) return split;
        using var input = OpenInput(file, source);
        using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
        var buffer = new byte[BufferSize];
        if (ReadHeader(input, buffer) is not var (names, headerLine, pos, filled)) return new NumberedCsv(target, [], true, 0, 0, null, null);
        output.Write(headerLine);
        var body = new Numbering(firstLine: 2);
        body.Run(input, output, buffer, pos, filled);
        return body.Result(target, names);
    }

    /// <summary>
    /// Numbers a plain CSV file in parts, one thread each: the body is cut at newlines into <paramref name="parts"/> ranges,
    /// a first parallel pass counts each range's newlines (so each part knows its first line's number), and each part
    /// becomes a copy of its own with the header line, read by DuckDB as one list of files. A part assumes it starts
    /// outside quotes; when the part before it ended inside a quoted field (a quoted newline across the cut) it is
    /// numbered again from inside the quotes. Null (number it in one pass) when an unterminated quote opened in an earlier part.
    /// </summary>
    static NumberedCsv? WriteInParts(RawFile file, string source, string target, int parts)
    {
        var buffer = new byte[BufferSize];
        using var handle = File.OpenHandle(source);
        int headerBytes;
        List<string> names;
        byte[] headerLine;
        using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1))
        {
            if (ReadHeader(input, buffer) is not var (n, line, pos, filled) || filled == pos) return null;
            if (input.Position != filled) return null; // the header did not fit the first buffer
            (names, headerLine, headerBytes) = (n, line, pos);
        }
        if (Cut(handle, headerBytes, parts) is not var (cuts, newlines)) return null;
        var count = cuts.Count - 1;
        var paths = Enumerable.Range(0, count).Select(k => k == 0 ? target : $"{target}.part{k}").ToList();
        var numberings = new Numbering[count];
        void Number(int k, bool inQuotes)
        {
            numberings[k] = new Numbering(firstLine: 2 + newlines.Take(k).Sum(), inQuotes);
            using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1) { Position = cuts[k] };
            using var output = new FileStream(paths[k], FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
            output.Write(headerLine);
            numberings[k].Run(new Slice(input, cuts[k + 1] - cuts[k]), output, new byte[BufferSize], 0, 0);
        }
        OnThreads(count, k => Number(k, inQuotes: false));
        // A cut inside a quoted field (a quoted newline): the part after it is numbered again, knowing it starts inside quotes.
        for (var k = 1; k < count; k++)
            if (numberings[k - 1].InQuotes != numberings[k].StartedInQuotes) Number(k, numberings[k - 1].InQuotes);
        if (numberings[^1] is { InQuotes: true, StartedRecord: false })
        {
            // A quote left open from an earlier part: its tail starts in another part's copy; one pass keeps it in one file.
            foreach (var path in paths) File.Delete(path);
            return null;
        }
        var last = numberings[^1].Result(paths[^1], names);
        return last with
        {
            Records = numberings.SkipLast(1).Sum(n => n.Records) + last.Records,
            DataLines = numberings.Sum(n => n.DataLines),
            FirstMultiLineRecord = numberings.SkipLast(1).Select(n => n.FirstMultiLine).FirstOrDefault(l => l is not null) ?? last.FirstMultiLineRecord,
            Files = paths,
        };
    }

    /// <summary>
    /// Runs <paramref name="body"/> for 0 … <paramref name="count"/> - 1 at once, each on a thread of its own, and rethrows
    /// the first failure once all have ended. Not the thread pool: Ingest's capture and its next file's preparation already
    /// hold a pool of two threads on a two-core machine, and parts queued behind them ran one after the other
    /// (a JSON-lines copy of 2M rows took 3.3 s in Ingest against 1.5 s on its own).
    /// </summary>
    internal static void OnThreads(int count, Action<int> body)
    {
        var others = Enumerable.Range(1, Math.Max(0, count - 1))
            .Select(k => Task.Factory.StartNew(() => body(k), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        Exception? failure = null;
        try { if (count > 0) body(0); }
        catch (Exception e) { failure = e; }
        foreach (var task in others)
        {
            try { task.GetAwaiter().GetResult(); }
            catch (Exception e) { failure ??= e; }
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>How many parts to number a file of <paramref name="size"/> bytes in: one per core, each at least <see cref="MinPartBytes"/>.</summary>
    internal static int PartsFor(long size) => (int)Math.Clamp(size / MinPartBytes, 1, Environment.ProcessorCount);

    /// <summary>
    /// Cuts the file from <paramref name="start"/> on into at most <paramref name="parts"/> ranges at newlines (offsets, the
    /// file's end last) and counts each range's newlines in parallel, so each part knows its first line; null if it cannot be cut.
    /// </summary>
    internal static (List<long> Cuts, long[] Newlines)? Cut(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long start, int parts)
    {
        var size = RandomAccess.GetLength(handle);
        var buffer = new byte[BufferSize];
        var cuts = new List<long> { start };
        for (var k = 1; k < parts; k++)
            if (NextLineStart(handle, start + (size - start) * k / parts, buffer) is { } cut && cut > cuts[^1] && cut < size)
                cuts.Add(cut);
        cuts.Add(size);
        if (cuts.Count < 3) return null;
        var newlines = new long[cuts.Count - 1];
        OnThreads(newlines.Length, k => newlines[k] = CountNewlines(handle, cuts[k], cuts[k + 1]));
        return (cuts, newlines);
    }

    /// <summary>The offset just after the first newline at or after <paramref name="from"/>, or null if there is none.</summary>
    static long? NextLineStart(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long from, byte[] buffer)
    {
        for (var at = from; ;)
        {
            var read = RandomAccess.Read(handle, buffer, at);
            if (read == 0) return null;
            var newline = buffer.AsSpan(0, read).IndexOf((byte)'\n');
            if (newline >= 0) return at + newline + 1;
            at += read;
        }
    }

    static long CountNewlines(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long from, long to)
    {
        var buffer = new byte[BufferSize];
        long count = 0;
        for (var at = from; at < to;)
        {
            var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, to - at)), at);
            if (read == 0) break;
            count += buffer.AsSpan(0, read).Count((byte)'\n');
            at += read;
        }
        return count;
    }

    /// <summary>
    /// Reads the header line (without a byte-order mark: it would end up inside the added column's name). Returns its
    /// field names, the copy's header line (the added column first), and where the body starts in the buffer; null for an empty file.
    /// </summary>
    static (List<string> Names, byte[] HeaderLine, int Pos, int Filled)? ReadHeader(Stream input, byte[] buffer)
    {
        var filled = Fill(input, buffer, 0);
        var eof = filled < buffer.Length;
        if (filled == 0) return null;
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
        var line = new MemoryStream();
        line.Write("_ctb_source_line,"u8);
        line.Write(header.GetBuffer(), 0, (int)header.Length);
        line.WriteByte((byte)'\n');
        return (names, line.ToArray(), pos, filled);
    }

    /// <summary>
    /// The numbering of a CSV body (or one part of it): each record gets its line's number, blank lines none, and the
    /// physical lines, records and quote state are tracked as it goes.
    /// </summary>
    sealed class Numbering(long firstLine, bool inQuotes = false)
    {
        long _line = firstLine, _recordLine, _recordOffset, _quoteLine;
        bool _atLineStart = true;
        public long Records { get; private set; }
        public long DataLines { get; private set; }
        public long? FirstMultiLine { get; private set; }
        public bool StartedInQuotes { get; } = inQuotes;
        public bool InQuotes { get; private set; } = inQuotes;
        /// <summary>Whether a record starts in what this numbered (line numbers start at 2: 0 is none).</summary>
        public bool StartedRecord => _recordLine != 0;

        /// <summary>Numbers what is left of <paramref name="buffer"/> (from <paramref name="pos"/> to <paramref name="filled"/>) and the rest of <paramref name="input"/>.</summary>
        public void Run(Stream input, Stream output, byte[] buffer, int pos, int filled)
        {
            var eof = filled > 0 && filled < buffer.Length;
            Span<byte> number = stackalloc byte[24];
            while (true)
            {
                if (pos == filled || (_atLineStart && filled - pos < 2 && !eof))
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
                    if (_atLineStart)
                    {
                        if (filled - pos < 2 && !eof) break;
                        _atLineStart = false;
                        var blank = buffer[pos] == '\n' || (buffer[pos] == '\r' && pos + 1 < filled && buffer[pos + 1] == '\n');
                        if (!blank && !InQuotes)
                        {
                            output.Write(buffer, segment, pos - segment);
                            segment = pos;
                            (_recordLine, _recordOffset) = (_line, output.Position);
                            Utf8Formatter.TryFormat(_line, number, out var written);
                            number[written++] = (byte)',';
                            output.Write(number[..written]);
                            Records++;
                        }
                        if (!blank) DataLines++;
                    }
                    var next = buffer.AsSpan(pos, filled - pos).IndexOfAny((byte)'"', (byte)'\n');
                    if (next < 0) { pos = filled; break; }
                    pos += next;
                    if (buffer[pos] == '"')
                    {
                        InQuotes = !InQuotes; // "" inside quotes toggles twice: no net change
                        if (InQuotes) _quoteLine = _line;
                    }
                    else
                    {
                        if (InQuotes) FirstMultiLine ??= _recordLine;
                        _line++;
                        _atLineStart = true;
                    }
                    pos++;
                }
                output.Write(buffer, segment, pos - segment);
            }
        }

        public NumberedCsv Result(string path, IReadOnlyList<string> names)
        {
            if (!InQuotes) return new NumberedCsv(path, names, false, Records, DataLines, FirstMultiLine, null);
            // The quote never closes: its record and every line after it are left for quarantine, line by line.
            return new NumberedCsv(path, names, false, Records - 1, DataLines,
                FirstMultiLine == _recordLine ? null : FirstMultiLine, new UnterminatedQuote(_quoteLine, _recordLine, _recordOffset));
        }
    }

    /// <summary>The copy's files in order: one, or the parts of a file numbered in parts (<see cref="Path"/> is then the last).</summary>
    public IReadOnlyList<string> Files { get; init; } = [Path];

    /// <summary>The first <c>length</c> bytes of a stream from where it is, read-only.</summary>
    internal sealed class Slice(Stream inner, long length) : Stream
    {
        long _left = length;
        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = _left <= 0 ? 0 : inner.Read(buffer, offset, (int)Math.Min(count, _left));
            _left -= read;
            return read;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
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

    /// <summary>A JSON-lines copy's objects, each with its line (JSON lines only; see <see cref="NumberedJsonLines"/>).</summary>
    public IReadOnlyList<string> JsonObjects { get; init; } = [];

    /// <summary>A JSON-lines copy's lines that are not one JSON object, numbered (JSON lines only).</summary>
    public IReadOnlyList<string> NotObjects { get; init; } = [];

    /// <summary>How many lines <see cref="NotObjects"/> holds.</summary>
    public long NotObjectLines { get; init; }

    /// <summary>The top-level keys of a JSON-lines file's objects, in order of first appearance (JSON lines only).</summary>
    public IReadOnlyList<string> JsonKeys { get; init; } = [];

    /// <summary>What kinds of value each of <see cref="JsonKeys"/> held (JSON lines only).</summary>
    public IReadOnlyDictionary<string, JsonValueKinds> JsonKinds { get; init; } = new Dictionary<string, JsonValueKinds>();

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
    internal static int Fill(Stream input, byte[] buffer, int offset)
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
