using System.Buffers.Text;
using System.IO.Compression;

namespace CtBuild.Ingest;

/// <summary>
/// A working copy of a CSV file with each record's source line as an extra first field.
/// DuckDB reports the line of the rows it rejects but not of the rows it accepts, and numbering rows in
/// the query (<c>row_number() OVER ()</c>) puts its CSV reader on one thread; with the number in the text,
/// the parallel reader carries every row's line for free, and the good rows stream straight to Parquet.
/// Only for files whose records are one line each: a quoted newline stops the copy
/// (<see cref="RecordsSpanLines"/>) and Ingest takes the slower path that maps DuckDB's record numbers
/// to lines through <see cref="CsvLayout"/>.
/// </summary>
public sealed record NumberedCsv(string Path, IReadOnlyList<string> Header, bool Empty, long Records, bool RecordsSpanLines)
{
    /// <summary>The added first column. Blank lines get no number: DuckDB skips them, as it does in the original.</summary>
    public const string LineColumn = "_ctb_source_line";

    const int BufferSize = 1 << 20;

    /// <summary>Copies <paramref name="source"/> (the captured bytes of <paramref name="file"/>) to <paramref name="target"/>, numbered.</summary>
    public static NumberedCsv Write(RawFile file, string source, string target)
    {
        using var input = file.Format == RawFormat.CsvGzip
            ? (Stream)new GZipStream(File.OpenRead(source), CompressionMode.Decompress)
            : new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize);
        var buffer = new byte[BufferSize];
        var filled = Fill(input, buffer, 0);
        var eof = filled < buffer.Length;
        if (filled == 0) return new NumberedCsv(target, [], true, 0, false);

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
        var names = CsvLayout.ParseHeader(header.ToArray());
        output.Write("_ctb_source_line,"u8);
        output.Write(header.GetBuffer(), 0, (int)header.Length);
        output.WriteByte((byte)'\n');

        Span<byte> number = stackalloc byte[24];
        long line = 2, records = 0;
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
                    if (!blank)
                    {
                        output.Write(buffer, segment, pos - segment);
                        segment = pos;
                        Utf8Formatter.TryFormat(line, number, out var written);
                        number[written++] = (byte)',';
                        output.Write(number[..written]);
                        records++;
                    }
                }
                var next = buffer.AsSpan(pos, filled - pos).IndexOfAny((byte)'"', (byte)'\n');
                if (next < 0) { pos = filled; break; }
                pos += next;
                if (buffer[pos] == '"') inQuotes = !inQuotes; // "" inside quotes toggles twice: no net change
                else if (inQuotes) return new NumberedCsv(target, names, false, records, true);
                else { line++; atLineStart = true; }
                pos++;
            }
            output.Write(buffer, segment, pos - segment);
        }
        return new NumberedCsv(target, names, false, records, false);
    }

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
