using System.Diagnostics;
using CtBuild.Tests.Support;
using Xunit.Abstractions;

namespace CtBuild.Tests.GitHub;

/// <summary>
/// Runs the real Cake pipeline (build.cake → ctb verbs) with GitHub Actions simulated: GITHUB_ACTIONS=true
/// and temp files for GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_ENV.
/// </summary>
public sealed class CakeInGitHubActionsTests(ITestOutputHelper output) : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Promote_writes_outputs_and_summary_and_a_second_run_skips_every_stage()
    {
        var ctb = CopyCakeScriptAndCommit();

        var first = RunCake(ctb, "first");
        Assert.True(first.ExitCode == 0, first.Output);
        var outputs = File.ReadAllText(first.OutputFile);
        Assert.Contains("promoted=true", outputs);
        Assert.Contains("model=small-model", outputs);
        Assert.Contains("version=1", outputs);
        Assert.Matches(@"auc=0\.\d+", outputs);
        var summary = File.ReadAllText(first.SummaryFile);
        Assert.Contains("PROMOTED", summary);
        Assert.Contains("| ingest", summary, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("::group::ctb ingest", first.Output);
        Assert.Contains("::endgroup::", first.Output);
        Assert.StartsWith("Promote small-model v1", GitRepo.Log(_ws.Root)[0]);

        var second = RunCake(ctb, "second");
        Assert.True(second.ExitCode == 0, second.Output);
        // Every stage, the target Promote included, shows Skipped in Cake's summary (it said Succeeded for
        // a Promote that did nothing), and no ctb verb ran.
        foreach (var stage in new[] { "Ingest", "Features", "Split", "Tune", "Evaluate", "Report", "Promote" })
            Assert.Matches($@"\n\s*{stage}\s+-\s+Skipped\s+up to date", second.Output);
        Assert.DoesNotContain("::group::ctb", second.Output);
        Assert.Equal(2, GitRepo.Log(_ws.Root).Count);
    }

    [Fact]
    public async Task Two_cake_runs_started_together_on_a_fresh_clone_both_succeed_one_after_the_other()
    {
        // With Cake's script cache on, the second of two cold runs failed writing the same compiled script
        // ("build.BuildScriptHost….dll … being used by another process") before build.cake could take the
        // workspace lock. Both must succeed: one ingests, the other waits for the lock and finds it up to date.
        var ctb = CopyCakeScriptAndCommit();
        Restore();
        var runs = await Task.WhenAll(new[] { "a", "b" }.Select(name => Task.Run(() => RunCake(ctb, name, "Ingest", restore: false, colourTerminal: true))));

        foreach (var run in runs) Assert.True(run.ExitCode == 0, run.Output);
        // Into a pipe, with TERM naming a colour terminal and no NO_COLOR, the stale lines are still plain text.
        var stale = runs.SelectMany(r => r.Output.Split('\n')).Where(l => l.Contains("stale:", StringComparison.Ordinal)).ToList();
        Assert.Contains(stale, l => l.TrimEnd('\r') == "ingest: stale: never ran");
        Assert.DoesNotContain(stale, l => l.Contains('\u001b'));
        Assert.DoesNotContain(runs, r => r.Output.Contains("being used by another process", StringComparison.Ordinal));
        // Both may have found Ingest stale before either ran it; the one that waited for the lock then finds it done.
        Assert.Single(runs, r => r.Output.Contains("ingest: done", StringComparison.Ordinal));
    }

    string CopyCakeScriptAndCommit()
    {
        var repo = TempWorkspace.RepoRoot;
        File.Copy(Path.Combine(repo, "build.cake"), Path.Combine(_ws.Root, "build.cake"));
        File.Copy(Path.Combine(repo, "cake.config"), Path.Combine(_ws.Root, "cake.config"));
        Directory.CreateDirectory(Path.Combine(_ws.Root, "build"));
        Directory.CreateDirectory(Path.Combine(_ws.Root, ".config"));
        foreach (var f in Directory.GetFiles(Path.Combine(repo, "build"))) File.Copy(f, Path.Combine(_ws.Root, "build", Path.GetFileName(f)));
        File.Copy(Path.Combine(repo, ".config", "dotnet-tools.json"), Path.Combine(_ws.Root, ".config", "dotnet-tools.json"));
        _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(400));
        GitRepo.Init(_ws.Root);
        GitRepo.CommitAll(_ws.Root, "workspace");
        return Path.Combine(AppContext.BaseDirectory, "ctb.dll");
    }

    void Restore()
    {
        var restore = Process.Start(new ProcessStartInfo("dotnet", "tool restore") { WorkingDirectory = _ws.Root, RedirectStandardOutput = true })!;
        restore.StandardOutput.ReadToEnd();
        restore.WaitForExit();
    }

    (int ExitCode, string Output, string OutputFile, string SummaryFile) RunCake(string ctb, string name, string target = "Promote",
        bool restore = true, bool colourTerminal = false)
    {
        var files = Path.Combine(_ws.Root, ".github-sim", name);
        Directory.CreateDirectory(files);
        string F(string f) { var p = Path.Combine(files, f); File.WriteAllText(p, ""); return p; }
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = _ws.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "cake", $"--target={target}", $"--ctb={ctb}", "--verbosity=normal" }) psi.ArgumentList.Add(a);
        psi.Environment["GITHUB_ACTIONS"] = "true";
        psi.Environment["GITHUB_OUTPUT"] = F("output");
        psi.Environment["GITHUB_STEP_SUMMARY"] = F("summary");
        psi.Environment["GITHUB_ENV"] = F("env");
        if (colourTerminal) psi.Environment["TERM"] = "xterm-256color";
        else psi.Environment["NO_COLOR"] = "1";
        if (restore) Restore();
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var all = stdout + stderr.Result;
        output.WriteLine($"--- cake run '{name}' (exit {p.ExitCode}) ---\n{all}");
        return (p.ExitCode, all, Path.Combine(files, "output"), Path.Combine(files, "summary"));
    }
}
