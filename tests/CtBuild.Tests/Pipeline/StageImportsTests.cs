using System.Text.RegularExpressions;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Pipeline;

/// <summary>
/// Stages are thin adapters over the domain folders, so the dependency points one way: only Pipeline/
/// (which lists the stages) refers to Stages/. A C# file can reach a type of CtBuild.Stages only through a
/// using directive, a qualified name or by declaring that namespace itself; this scans for all three.
/// </summary>
public partial class StageImportsTests
{
    static readonly string[] Allowed = ["Stages", "Pipeline"];

    [Fact]
    public void No_engine_folder_but_Pipeline_refers_to_Stages()
    {
        var engine = Path.Combine(TempWorkspace.RepoRoot, "src", "CtBuild");
        var violations = Directory.EnumerateFiles(engine, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (Folder: Path.GetRelativePath(engine, f).Split(Path.DirectorySeparatorChar)[0], File: Path.GetRelativePath(engine, f)))
            .Where(x => !Allowed.Contains(x.Folder))
            .SelectMany(x => Violations(File.ReadAllText(Path.Combine(engine, x.File))).Select(v => $"{x.File}: {v}"))
            .ToList();

        Assert.True(violations.Count == 0, "Only Pipeline/ may refer to Stages/; move the code into a domain folder:" + Environment.NewLine + string.Join(Environment.NewLine, violations));
    }

    [Theory]
    [InlineData("using CtBuild.Stages;\nnamespace CtBuild.Publishing;")]
    [InlineData("using static CtBuild.Stages.SplitStage;")]
    [InlineData("using S = CtBuild.Stages.SplitStage;")]
    [InlineData("namespace CtBuild.Publishing;\nclass A { string t = Stages.SplitStage.Table; }")]
    [InlineData("namespace CtBuild.Stages;\nclass Misplaced { }")]
    [InlineData("class A { object s = new global::CtBuild.Stages.TuneStage(); }")]
    public void The_scan_catches_each_way_of_reaching_a_stage(string source) => Assert.NotEmpty(Violations(source));

    [Theory]
    [InlineData("namespace CtBuild.Reporting;\nclass A { int n = PipelineDefinition.Stages.Count; }")]
    [InlineData("// see Stages/EvaluateStage.cs\nnamespace CtBuild.Evaluation;")]
    public void The_scan_allows_the_pipeline_definition_and_comments(string source) => Assert.Empty(Violations(source));

    static IEnumerable<string> Violations(string source)
    {
        var code = Comment().Replace(source, "");
        foreach (Match m in StagesReference().Matches(code)) yield return $"refers to {m.Value.Trim()}";
    }

    // "CtBuild.Stages" in a using, an alias or a qualified name; "Stages.X" not preceded by a member access
    // (PipelineDefinition.Stages.Count is the pipeline's list, not the namespace); a file declaring the namespace.
    [GeneratedRegex(@"\bCtBuild\.Stages\b|(?<![\w.])Stages\.[A-Z]\w*|\bnamespace\s+CtBuild\.Stages\b")]
    private static partial Regex StagesReference();

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comment();
}
