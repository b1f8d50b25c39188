using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CtBuild.Ingest;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest;

public sealed class NumberedJsonLinesTests : IDisposable
{
    readonly TempWorkspace _tmp = new();

    public void Dispose() => _tmp.Dispose();

    (NumberedCsv Result, string Path) Number(string name, string text, int parts = 1)
    {
        var path = Path.Combine(_tmp.Root, name);
        File.WriteAllText(path, text);
        return (NumberedJsonLines.Write(path, path + $".numbered{parts}", parts), path);
    }

    /// <summary>The copy's objects without the number the copy put in them; lines of white space (blank or not objects) left out.</summary>
    static List<string> Objects(NumberedCsv result) =>
        File.ReadAllLines(result.Path).Where(l => l.Trim().Length > 0).Select(l => Regex.Replace(l, "\"_ctb_source_line\": *[0-9]+[, ]", "")).ToList();

    static List<long> Numbers(NumberedCsv result) =>
        File.ReadAllLines(result.Path).Where(l => l.Trim().Length > 0).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("_ctb_source_line").GetInt64()).ToList();

    [Fact]
    public void Json_objects_carry_their_line_as_the_first_key_and_other_lines_go_aside_with_a_control_byte()
    {
        var (result, _) = Number("a.jsonl", "{\"a\": 1}\n\n  {\"a\": \"x,y\"}\r\n{}\n{not json}");

        Assert.Equal(4, result.Records);
        Assert.Equal(1, result.NotObjectLines);
        // Every line keeps its place and grows by the same bytes: a fixed-width number, and spaces for a blank line or one that is not an object.
        // The number is as wide as a line count the file's size allows could need (39 bytes: 2), right-aligned with spaces.
        Assert.Equal("{\"_ctb_source_line\": 1,\"a\": 1}\n" + new string(' ', 22) + "\n  {\"_ctb_source_line\": 3,\"a\": \"x,y\"}\r\n{\"_ctb_source_line\": 4 }\n" + new string(' ', 32) + "\n",
            File.ReadAllText(result.Path));
        Assert.Equal("5\u0001{not json}\n", File.ReadAllText(result.NotObjects.Single()));
    }

    [Fact]
    public void Json_lines_numbering_finds_the_keys_in_order_and_marks_every_line_that_is_not_one_object()
    {
        var lines = new[]
        {
            "{\"id\": 1, \"nested\": {\"deep\": [1, {\"x\": 2}]}, \"c\\u00e9\": \"a\"}", // 1 object; an escaped key
            "{\"nested\": null, \"id\": 2, \"late\": true}",                            // 2 object, keys in another order, one new key
            "[1, 2]",                                                                     // 3 an array
            "{\"id\": 3} {\"id\": 4}",                                                    // 4 two objects
            "{\"id\": 5,}",                                                               // 5 a trailing comma
            "{\"id\": ",                                                                 // 6 cut short
            "42",                                                                         // 7 a number
            "   ",                                                                        // 8 white space only
            "{\"id\": 6, \"s\": \"" + new string('x', 3_000_000) + "\"}",                 // 9 longer than the copy's buffer
        };
        var (result, _) = Number("b.jsonl", string.Join("\n", lines) + "\n");

        Assert.Equal(["id", "nested", "c\u00e9", "late", "s"], result.JsonKeys);
        Assert.Equal([1L, 2, 9], Numbers(result));
        Assert.Equal([lines[0], lines[1], lines[8]], Objects(result));
        var others = File.ReadAllLines(result.NotObjects.Single());
        Assert.Equal(["3", "4", "5", "6", "7", "8"], others.Select(l => l[..l.IndexOf('\u0001')]));
        Assert.Equal(lines[2..8], others.Select(l => l[(l.IndexOf('\u0001') + 1)..]));
    }

    [Fact]
    public void A_file_numbered_in_parts_gives_the_same_copy_keys_kinds_and_lines_as_one_part()
    {
        var random = new Random(5);
        var s = new StringBuilder();
        for (var i = 0; i < 4000; i++)
            s.Append(random.Next(12) switch
            {
                0 => "\n",
                1 => "\r\n",
                2 => "not json\n",
                3 => $"{{\"id\": {i}, \"late{i % 3}\": [1, 2]}}\r\n",
                4 => "{}\n",
                5 => $"{{\"x\": \"{new string('y', random.Next(200_000))}\"}}\n", // lines across the cuts and the buffer
                _ => $"{{\"id\":{i},\"v\":{i * 0.5},\"s\":\"a{i}\"}}\n",
            });
        s.Append("{\"id\": -1}"); // no newline at the end
        var text = s.ToString();

        var (one, _) = Number("p.jsonl", text, parts: 1);
        foreach (var parts in new[] { 2, 3 })
        {
            var (split, _) = Number("p.jsonl", text, parts);
            Assert.Equal(parts + 1, split.Files.Count); // the one copy, and one file of lines that are not objects per part
            Assert.Equal(File.ReadAllBytes(one.Path), File.ReadAllBytes(split.Path));
            Assert.Equal(one.JsonKeys, split.JsonKeys);
            Assert.Equal(one.JsonKinds, split.JsonKinds);
            Assert.Equal((one.Records, one.NotObjectLines), (split.Records, split.NotObjectLines));
            Assert.Equal(File.ReadAllText(one.NotObjects.Single()), string.Concat(split.NotObjects.Select(File.ReadAllText)));
        }
        Assert.Equal(text.Split('\n').Length, File.ReadAllLines(one.Path).Length); // every line kept its place
        Assert.Equal(4001, Numbers(one).Max());
    }

    [Fact]
    public void The_kinds_of_each_keys_values_decide_whether_it_can_be_read_typed()
    {
        var (result, _) = Number("k.jsonl", string.Join("\n",
            "{\"int\": 1, \"neg\": -7, \"big\": 9223372036854775807, \"dbl\": 1.5, \"exp\": 1e5, \"zero\": -0, \"s\": \"1\", \"b\": true, \"n\": null, \"o\": {}, \"huge\": 1e400}",
            "{\"int\": null, \"neg\": 0, \"big\": 9223372036854775808, \"dbl\": 2, \"exp\": 2.5E-3, \"zero\": 0, \"s\": \"x\", \"b\": false, \"n\": null, \"o\": [1], \"huge\": 1}",
            "[\"not an object\"]") + "\n");

        Assert.Equal(JsonValueKinds.Integer | JsonValueKinds.Null, result.JsonKinds["int"]);
        Assert.Equal(JsonValueKinds.Integer, result.JsonKinds["neg"]);
        Assert.Equal(JsonValueKinds.Integer | JsonValueKinds.Number, result.JsonKinds["big"]); // one past long.MaxValue
        Assert.Equal(JsonValueKinds.Number | JsonValueKinds.Integer, result.JsonKinds["dbl"]);
        Assert.Equal(JsonValueKinds.Number, result.JsonKinds["exp"]);
        Assert.Equal(JsonValueKinds.Number | JsonValueKinds.Integer, result.JsonKinds["zero"]); // -0 is not an integer's text
        Assert.Equal(JsonValueKinds.String, result.JsonKinds["s"]);
        Assert.Equal(JsonValueKinds.Bool, result.JsonKinds["b"]);
        Assert.Equal(JsonValueKinds.Null, result.JsonKinds["n"]);
        Assert.Equal(JsonValueKinds.Other, result.JsonKinds["o"]);
        Assert.Equal(JsonValueKinds.Other | JsonValueKinds.Integer, result.JsonKinds["huge"]); // past a double's range
    }
}
