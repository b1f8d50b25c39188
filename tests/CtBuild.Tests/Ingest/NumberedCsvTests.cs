using System.IO.Compression;
using System.Text;
using CtBuild.Ingest;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest;

public sealed class NumberedCsvTests : IDisposable
{
    readonly TempWorkspace _tmp = new();

    public void Dispose() => _tmp.Dispose();

    (NumberedCsv Result, string Text) Number(string name, byte[] content)
    {
        var path = Path.Combine(_tmp.Root, name);
        File.WriteAllBytes(path, content);
        var file = new RawFile(name, path, RawFile.FormatOf(name)!.Value, content.Length, "unused", 0);
        var result = NumberedCsv.Write(file, path, path + ".numbered");
        return (result, File.Exists(result.Path) ? File.ReadAllText(result.Path) : "");
    }

    (string Path, RawFile File) WriteCsv(string name, string text)
    {
        var path = Path.Combine(_tmp.Root, name);
        File.WriteAllText(path, text);
        return (path, new RawFile(name, path, RawFormat.Csv, new FileInfo(path).Length, "unused", 0));
    }

    /// <summary>What the copy must be: every non-blank line after the header prefixed with its 1-based line number.</summary>
    static string Expected(string text)
    {
        var lines = text.Split('\n');
        var s = new StringBuilder("_ctb_source_line,").Append(lines[0].TrimStart('\uFEFF'));
        for (var i = 1; i < lines.Length; i++)
        {
            s.Append('\n');
            if (lines[i].Length > 0 && lines[i] != "\r") s.Append(i + 1).Append(',');
            s.Append(lines[i]);
        }
        return lines.Length == 1 ? s.Append('\n').ToString() : s.ToString();
    }

    [Fact]
    public void Each_record_is_prefixed_with_its_source_line_and_blank_lines_are_left_alone()
    {
        var text = "id,city\n1,Oslo\n\n2,\"Li,ma\"\r\n\r\n3,\"say \"\"hi\"\"\"\n4,x";
        var (result, copy) = Number("a.csv", Encoding.UTF8.GetBytes(text));

        Assert.Equal(["id", "city"], result.Header);
        Assert.Null(result.FirstMultiLineRecord);
        Assert.Equal(4, result.DataLines);
        Assert.Equal(4, result.Records);
        Assert.Equal("_ctb_source_line,id,city\n2,1,Oslo\n\n4,2,\"Li,ma\"\r\n\r\n6,3,\"say \"\"hi\"\"\"\n7,4,x", copy);
    }

    [Fact]
    public void Lines_stay_right_across_buffer_boundaries()
    {
        // Several megabytes with blank CRLF lines and quotes everywhere, so some land on the 1 MiB buffer edges.
        var random = new Random(7);
        var s = new StringBuilder("a,b,c\r\n");
        var records = 0;
        while (s.Length < 3_500_000)
        {
            switch (random.Next(10))
            {
                case 0: s.Append("\r\n"); break;
                case 1: s.Append('\n'); break;
                case 2: s.Append(records++).Append(",\"q,\"\"x\"\"\",").Append(random.Next()).Append("\r\n"); break;
                default: s.Append(records++).Append(',').Append(new string('v', random.Next(0, 40))).Append(",z\n"); break;
            }
        }
        var text = s.ToString();

        var (result, copy) = Number("big.csv", Encoding.UTF8.GetBytes(text));

        Assert.Equal(records, result.Records);
        Assert.Equal(Expected(text), copy);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void A_file_numbered_in_parts_gives_the_same_numbers_records_and_lines_as_one_pass(int parts)
    {
        // Blank lines, CRLF, quoted newlines and doubled quotes everywhere, so some land next to the cuts.
        var random = new Random(parts);
        var s = new StringBuilder("\uFEFFa,b,c\r\n");
        while (s.Length < 400_000)
            s.Append(random.Next(8) switch
            {
                0 => "\r\n",
                1 => "\n",
                2 => $"{random.Next()},\"q,\"\"x\"\"\",1\r\n",
                3 => $"{random.Next()},\"two\nlines\",2\n",
                _ => $"{random.Next()},{new string('v', random.Next(0, 40))},z\n",
            });
        var bytes = Encoding.UTF8.GetBytes(s.Append("9,last,no newline").ToString());
        var path = Path.Combine(_tmp.Root, "parts.csv");
        File.WriteAllBytes(path, bytes);
        var file = new RawFile("parts.csv", path, RawFormat.Csv, bytes.Length, "unused", 0);

        var whole = NumberedCsv.Write(file, path, path + ".whole", parts: 1);
        var split = NumberedCsv.Write(file, path, path + ".split", parts);

        Assert.Equal(parts, split.Files.Count);
        Assert.Equal(whole.Header, split.Header);
        Assert.Equal((whole.Records, whole.DataLines, whole.FirstMultiLineRecord), (split.Records, split.DataLines, split.FirstMultiLineRecord));
        var header = File.ReadAllText(whole.Path)[..(File.ReadAllText(whole.Path).IndexOf('\n') + 1)];
        var joined = header + string.Concat(split.Files.Select(f => File.ReadAllText(f)[header.Length..]));
        Assert.Equal(File.ReadAllText(whole.Path), joined);
        Assert.All(split.Files, f => Assert.StartsWith(header, File.ReadAllText(f)));
    }

    [Fact]
    public void A_quoted_field_open_across_a_cut_is_numbered_from_inside_the_quotes()
    {
        // One quoted field spans the middle of the file, so the second part starts inside it.
        var s = new StringBuilder("a,b\n1,\"");
        for (var i = 0; i < 5000; i++) s.Append("line ").Append(i).Append('\n');
        s.Append("\"\n2,x\n");
        var (path, file) = WriteCsv("span.csv", s.ToString());

        var split = NumberedCsv.Write(file, path, path + ".split", parts: 2);

        Assert.Equal(2, split.Files.Count);
        Assert.Equal(2, split.Records);
        Assert.Equal(2, split.FirstMultiLineRecord);
        Assert.EndsWith("line 4999\n\"\n5003,2,x\n", File.ReadAllText(split.Path));
        Assert.StartsWith("_ctb_source_line,a,b\nline ", File.ReadAllText(split.Path));
    }

    [Fact]
    public void An_unterminated_quote_opened_in_an_earlier_part_is_numbered_in_one_pass()
    {
        var s = new StringBuilder("a,b\n1,\"");
        for (var i = 0; i < 5000; i++) s.Append("line ").Append(i).Append('\n');
        var (path, file) = WriteCsv("open-early.csv", s.ToString());

        var split = NumberedCsv.Write(file, path, path + ".split", parts: 2);

        Assert.Single(split.Files);
        Assert.Equal(new UnterminatedQuote(2, 2, "_ctb_source_line,a,b\n".Length), split.Unterminated);
        Assert.False(File.Exists(path + ".split.part1"));
    }

    [Fact]
    public void An_unterminated_quote_in_the_last_part_leaves_its_tail_for_quarantine()
    {
        var s = new StringBuilder("a,b\n");
        for (var i = 0; i < 5000; i++) s.Append(i).Append(",x\n");
        s.Append("5000,\"open\n5001,y\n");
        var (path, file) = WriteCsv("open.csv", s.ToString());

        var split = NumberedCsv.Write(file, path, path + ".split", parts: 2);

        Assert.Equal(2, split.Files.Count);
        Assert.Equal(5000, split.Records);
        Assert.Equal(new UnterminatedQuote(5002, 5002, split.Unterminated!.Offset), split.Unterminated);
        Assert.Equal([(5002L, "5000,\"open"), (5003L, "5001,y")], split.TakeUnterminatedTail().ToList());
        Assert.EndsWith("4999,x\n", File.ReadAllText(split.Path));
    }

    [Fact]
    public void Gzip_input_and_a_byte_order_mark_are_handled()
    {
        var text = "\uFEFFid,city\n1,Oslo\n2,Lima\n";
        var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
            zip.Write(Encoding.UTF8.GetBytes(text));

        var (result, copy) = Number("a.csv.gz", gz.ToArray());

        Assert.Equal(["id", "city"], result.Header);
        Assert.Equal("_ctb_source_line,id,city\n2,1,Oslo\n3,2,Lima\n", copy);
    }

    [Fact]
    public void A_record_with_a_quoted_newline_is_numbered_by_the_line_it_starts_on()
    {
        var (result, copy) = Number("multi.csv", "id,city\n1,\"Os\nlo\"\n2,Lima\n"u8.ToArray());
        Assert.Equal(2, result.FirstMultiLineRecord);
        Assert.Equal(2, result.Records);
        Assert.Null(result.Unterminated);
        Assert.Equal("_ctb_source_line,id,city\n2,1,\"Os\nlo\"\n4,2,Lima\n", copy);
    }

    [Fact]
    public void An_unterminated_quote_leaves_its_record_and_every_later_line_out_of_the_copy()
    {
        var (result, _) = Number("broken.csv", "id,city\n1,Oslo\n2,\"Li,ma\n3,Pune\n\n4,Rome\r\n"u8.ToArray());
        Assert.Equal(new UnterminatedQuote(3, 3, "_ctb_source_line,id,city\n2,1,Oslo\n".Length), result.Unterminated);
        Assert.Equal(1, result.Records);
        Assert.Equal(4, result.DataLines);

        var tail = result.TakeUnterminatedTail().ToList();

        Assert.Equal([(3L, "2,\"Li,ma"), (4L, "3,Pune"), (6L, "4,Rome")], tail);
        Assert.Equal("_ctb_source_line,id,city\n2,1,Oslo\n", File.ReadAllText(result.Path));
    }

    [Fact]
    public void Empty_and_header_only_files()
    {
        Assert.True(Number("empty.csv", []).Result.Empty);
        var (header, copy) = Number("header.csv", "id,city"u8.ToArray());
        Assert.Equal(["id", "city"], header.Header);
        Assert.Equal(0, header.Records);
        Assert.Equal("_ctb_source_line,id,city\n", copy);
    }
}
