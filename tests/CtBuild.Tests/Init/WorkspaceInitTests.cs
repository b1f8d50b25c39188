using CtBuild.Configuration;
using CtBuild.Init;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Init;

/// <summary>
/// <c>ctb init</c>'s inference and its refusals, in process on real files: the contract it writes loads,
/// says what the data says, and a bad input leaves the folder untouched.
/// </summary>
public sealed class WorkspaceInitTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("ctb-init-").FullName;
    readonly string _inputs = Directory.CreateTempSubdirectory("ctb-init-in-").FullName;

    public void Dispose()
    {
        foreach (var d in new[] { _root, _inputs })
            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }

    static string Dataset(string name) => Path.Combine(TempWorkspace.SharedDatasets, name);

    InitPlan Init(string data, string label, string positive, string? key = null, bool force = false)
    {
        var plan = WorkspaceInit.Plan(_root, new InitRequest(data, label, positive, key, null, force, "0.1.0"));
        WorkspaceInit.Write(_root, plan);
        return plan;
    }

    string Input(string name, string text)
    {
        var path = Path.Combine(_inputs, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Titanic_gives_a_contract_that_loads_with_types_nullability_and_allowed_values()
    {
        Init(Dataset("titanic.csv"), "survived", "survived");
        var config = ConfigLoader.Load(Path.Combine(_root, "ctbuild.json"));
        var c = config.Ingest.Columns;
        Assert.Equal("titanic", config.Name);
        Assert.Equal(("double", true), (c["age"].Type, c["age"].Nullable)); // 263 empty, values like 0.9167
        Assert.Equal(("int", false), (c["sibsp"].Type, c["sibsp"].Nullable));
        Assert.Equal(["1st", "2nd", "3rd"], c["pclass"].Values!);
        Assert.Null(c["age"].Min);
        Assert.Equal(["died", "survived"], config.Ingest.Label.Values);
        Assert.Equal("./ctbuild.schema.json", config.Schema);
        var sql = File.ReadAllText(Path.Combine(_root, "features", "features.sql"));
        Assert.Contains("\"survived\" = 'survived' AS label", sql);
        Assert.DoesNotContain("\"survived\",", sql); // the label is not a feature of itself
        foreach (var f in new[] { "build.cake", "build/ctb.cake", ".config/dotnet-tools.json", ".gitignore", ".github/workflows/continuous-training.yml", "data/raw/titanic.csv", "ctbuild.schema.json" })
            Assert.True(File.Exists(Path.Combine(_root, f)), f);
        var manifest = File.ReadAllText(Path.Combine(_root, ".config", "dotnet-tools.json"));
        Assert.Contains("\"cake.tool\"", manifest);
        Assert.Contains("\"ctbuild\"", manifest);
        Assert.DoesNotContain("DotNetBuild", File.ReadAllText(Path.Combine(_root, "build.cake")) + File.ReadAllText(Path.Combine(_root, "build", "ctb.cake")));
    }

    [Fact]
    public void Adult_reads_question_marks_as_missing_and_keeps_them_out_of_the_allowed_values()
    {
        var plan = Init(Dataset("adult.csv.gz"), "income", ">50K");
        var c = ConfigLoader.Load(Path.Combine(_root, "ctbuild.json")).Ingest;
        Assert.Contains("?", c.MissingValues);
        Assert.True(c.Columns["workclass"].Nullable);
        Assert.DoesNotContain("?", c.Columns["workclass"].Values!);
        Assert.Equal(8, c.Columns["workclass"].Values!.Count);
        Assert.Null(c.Columns["native_country"].Values); // 41 countries: not low-cardinality
        Assert.Equal("int", c.Columns["fnlwgt"].Type);
        Assert.Contains(plan.Notes, n => n.Contains("'workclass': '?' read as missing"));
        // Split adds a column `split` itself; Adult's own (UCI's train/test) is renamed in the SQL.
        Assert.Contains("\"split\" AS \"original_split\"", File.ReadAllText(Path.Combine(_root, "features", "features.sql")));
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void Warns_of_an_id_like_column_a_label_with_three_values_and_an_empty_column()
    {
        var rows = string.Join("\n", Enumerable.Range(1, 60).Select(i => $"{i},{(i % 3 == 0 ? "yes" : i % 3 == 1 ? "no" : "maybe")},{i % 7},,{(i % 5 == 0 ? "unknown" : "a" + i % 2)},{(i % 4 == 0 ? "None" : (i % 9).ToString())}"));
        var data = Input("odd.csv", "row_id,answer,x,blank,kind,n\n" + rows + "\n");
        var plan = Init(data, "answer", "yes");
        Assert.Contains(plan.Warnings, w => w.Contains("'row_id' looks like an id"));
        Assert.Contains(plan.Warnings, w => w.Contains("has 3 values"));
        Assert.Contains(plan.Warnings, w => w.Contains("'blank' is empty in every row"));
        var config = ConfigLoader.Load(Path.Combine(_root, "ctbuild.json"));
        Assert.Contains("row_id", config.Features.Exclude);
        Assert.DoesNotContain("\"blank\"", File.ReadAllText(Path.Combine(_root, "features", "features.sql")));
        // "unknown" in text is a category; "None" in a number column is a missing value.
        Assert.Contains("unknown", config.Ingest.Columns["kind"].Values!);
        Assert.Equal("int", config.Ingest.Columns["n"].Type);
        Assert.Equal(["None"], config.Ingest.Columns["n"].MissingValues!);
    }

    [Fact]
    public void Refuses_to_overwrite_a_different_file_without_force_and_writes_nothing()
    {
        File.WriteAllText(Path.Combine(_root, "ctbuild.json"), "{ \"mine\": true }");
        var ex = Assert.Throws<ConfigException>(() => Init(Dataset("titanic.csv"), "survived", "survived"));
        Assert.Contains("would overwrite ctbuild.json", ex.Message);
        Assert.Contains("--force", ex.Message);
        Assert.Equal(["ctbuild.json"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName));
        Init(Dataset("titanic.csv"), "survived", "survived", force: true);
        Assert.Equal("titanic", ConfigLoader.Load(Path.Combine(_root, "ctbuild.json")).Name);
    }

    [Fact]
    public void Keeps_an_existing_tool_manifest_and_gitignore_and_adds_what_is_missing()
    {
        File.WriteAllText(Path.Combine(_root, "dotnet-tools.json"), """{ "version": 1, "isRoot": true, "tools": { "ctbuild": { "version": "0.0.9", "commands": ["ctb"] } } }""");
        File.WriteAllText(Path.Combine(_root, ".gitignore"), "secrets/\n");
        Init(Dataset("titanic.csv"), "survived", "survived");
        var manifest = File.ReadAllText(Path.Combine(_root, "dotnet-tools.json"));
        Assert.Contains("0.0.9", manifest); // the user's pin stays
        Assert.Contains("cake.tool", manifest);
        Assert.False(File.Exists(Path.Combine(_root, ".config", "dotnet-tools.json")));
        var ignore = File.ReadAllText(Path.Combine(_root, ".gitignore"));
        Assert.StartsWith("secrets/\n", ignore);
        Assert.Contains("/data/lake/", ignore);
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { "missing", "survived", "does not exist" },
        { "titanic", "no_such_column", "--label 'no_such_column' is not a column" },
        { "one-value", "survived", "has one value ('died')" },
        { "empty", "survived", "is empty (0 bytes)" },
        { "header-only", "survived", "has no data rows" },
        { "binary", "survived", "is binary" },
        { "titanic-wrong-positive", "survived", "--positive 'yes' is not a value of 'survived'" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void A_bad_input_is_a_clear_error_and_nothing_is_written(string input, string label, string expected)
    {
        var positive = input == "titanic-wrong-positive" ? "yes" : "survived";
        var data = input switch
        {
            "missing" => Path.Combine(_inputs, "nowhere.csv"),
            "titanic" or "titanic-wrong-positive" => Dataset("titanic.csv"),
            "one-value" => Input("one.csv", "pclass,survived\n1st,died\n2nd,died\n"),
            "empty" => Input("empty.csv", ""),
            "header-only" => Input("header.csv", "pclass,survived\n"),
            _ => WriteBytes("data.csv", [0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0xff, 0x00]),
        };
        var ex = Assert.Throws<ConfigException>(() => Init(data, label, positive));
        Assert.Contains(expected, ex.Message);
        Assert.Equal(2, ex.ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(_root));
    }

    string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_inputs, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
