using System.Text;

namespace CtBuild.Ingest;

/// <summary>
/// What Ingest needs to know of a CSV file before DuckDB parses it: the header's column names, and
/// the line each record starts on. DuckDB reports the line of rejected rows but not of accepted ones,
/// so the lines of accepted rows are worked out from this quote-aware scan.
/// </summary>
public sealed record CsvLayout(IReadOnlyList<string> Header, bool Empty, bool RecordsSpanLines, IReadOnlyList<long>? RecordStartLines)
{
    public static CsvLayout Read(RawFile file)
    {
        using var stream = new BufferedStream(file.OpenText(), 1 << 20);
        var header = ReadHeader(stream, out var empty);
        if (empty) return new CsvLayout([], true, false, null);
        // First pass: does any quoted field hold a newline? Almost never, and then line = record + 1.
        var starts = new List<long>();
        var spans = false;
        var inQuotes = false;
        long line = 2; // the header was line 1
        var atRecordStart = true;
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            var span = buffer.AsSpan(0, read);
            var i = 0;
            while (i < span.Length)
            {
                if (atRecordStart && !inQuotes) { starts.Add(line); atRecordStart = false; }
                var next = span[i..].IndexOfAny((byte)'"', (byte)'\n');
                if (next < 0) break;
                i += next;
                if (span[i] == '"') inQuotes = !inQuotes; // "" inside quotes toggles twice: no net change
                else
                {
                    line++;
                    if (inQuotes) spans = true; else atRecordStart = true;
                }
                i++;
            }
        }
        if (atRecordStart && starts.Count > 0 && starts[^1] == line) starts.RemoveAt(starts.Count - 1);
        return new CsvLayout(header, false, spans, spans ? starts : null);
    }

    static IReadOnlyList<string> ReadHeader(Stream stream, out bool empty)
    {
        var bytes = new List<byte>();
        int b;
        while ((b = stream.ReadByte()) >= 0 && b != '\n') bytes.Add((byte)b);
        empty = bytes.Count == 0 && b < 0;
        return empty ? [] : ParseHeader(bytes.ToArray());
    }

    /// <summary>The column names of a header line (without its newline).</summary>
    internal static IReadOnlyList<string> ParseHeader(byte[] line)
    {
        var text = Encoding.UTF8.GetString(line).TrimEnd('\r').TrimStart('\uFEFF');
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
}
