using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using CtBuild.Tests.Support;
using Xunit.Abstractions;

namespace CtBuild.Tests.Cli;

/// <summary>
/// The installed-tool way, end to end on real processes: `dotnet pack` of the CLI, `dotnet tool install
/// CtBuild` from the package folder into a fresh git repository, `dotnet ctb init` on a shared dataset,
/// `dotnet cake --target=Promote` and the promotion commit, then a second run that skips every stage.
/// The package is installed into a private NuGet folder and CLI home, so a cached older package is never used.
/// </summary>
public sealed class ToolPackageTests(ITestOutputHelper output) : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("ctb-tool-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>nuget.org keeps a package at most this big; the tool must stay well under it.</summary>
    const long NuGetOrgLimit = 250L * 1024 * 1024;

    [Fact]
    public void Packed_tool_installs_into_an_empty_repository_inits_titanic_and_adult_and_promotes_then_skips_everything()
    {
        var package = Pack();
        var size = new FileInfo(package).Length;
        output.WriteLine($"package {Path.GetFileName(package)}: {size / 1024.0 / 1024:0.0} MB");
        Assert.True(size < 0.8 * NuGetOrgLimit, $"the package is {size / 1024 / 1024} MB");
        using (var zip = ZipFile.OpenRead(package))
        {
            var runtimes = zip.Entries.Select(e => Regex.Match(e.FullName, "/runtimes/([^/]+)/")).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().Order().ToList();
            Assert.Equal(["linux-arm64", "linux-x64", "osx", "osx-arm64", "win-x64"], runtimes);
            Assert.Contains(zip.Entries, e => e.FullName == "README.md");
            Assert.Contains(zip.Entries, e => e.FullName == "ctbuild.schema.json");
        }

        var packageVersion = Regex.Match(Path.GetFileName(package), @"^CtBuild\.(.+)\.nupkg$").Groups[1].Value;
        var titanic = Repository("titanic", Path.GetDirectoryName(package)!, packageVersion);
        var version = Run(titanic, "dotnet", "ctb", "--version");
        Assert.Matches(@"^\d+\.\d+\.\d+\S* \(engine commit ", version.Trim());
        Run(titanic, "dotnet", "ctb", "init", "--data", Path.Combine(TempWorkspace.SharedDatasets, "titanic.csv"), "--label", "survived", "--positive", "survived");
        SmallBudget(titanic);
        var first = Run(titanic, "dotnet", "cake", "--target=Promote");
        Assert.Matches(@"Promote\s+\S+\s+Succeeded", first);
        Assert.StartsWith("Promote titanic v1: AUC", GitRepo.Log(titanic)[0]);
        Assert.All(GitRepo.FilesIn(titanic), f => Assert.StartsWith("models/titanic/", f));

        var second = Run(titanic, "dotnet", "cake", "--target=Promote");
        foreach (var stage in new[] { "Ingest", "Features", "Split", "Tune", "Evaluate", "Report", "Promote" })
            Assert.Matches($@"\n\s*{stage}\s+-\s+Skipped\s+up to date", second);
        Assert.Single(GitRepo.Log(titanic));

        var adult = Repository("adult", Path.GetDirectoryName(package)!, packageVersion);
        Run(adult, "dotnet", "ctb", "init", "--data", Path.Combine(TempWorkspace.SharedDatasets, "adult.csv.gz"), "--label", "income", "--positive", ">50K", "--name", "adult-income");
        SmallBudget(adult);
        Run(adult, "dotnet", "cake", "--target=Promote");
        Assert.StartsWith("Promote adult-income v1: AUC", GitRepo.Log(adult)[0]);
    }

    /// <summary>
    /// Packs the CLI as built for this test run (`--no-build`: the project reference built it already,
    /// in this configuration) into a folder of its own.
    /// </summary>
    string Pack()
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        var folder = Path.Combine(_root, "package");
        Run(TempWorkspace.RepoRoot, "dotnet", "pack", "src/CtBuild.Cli/CtBuild.Cli.csproj", "--no-build", "-c", configuration, "-o", folder, "-nologo");
        return Directory.GetFiles(folder, "CtBuild.*.nupkg").Single();
    }

    /// <summary>An empty git repository with a tool manifest holding cake.tool and CtBuild from <paramref name="packages"/>.</summary>
    string Repository(string name, string packages, string version)
    {
        var repo = Path.Combine(_root, name);
        Directory.CreateDirectory(repo);
        GitRepo.Init(repo);
        // The package folder, the machine's NuGet cache as an offline copy of cake.tool, then nuget.org.
        var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(repo, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="ctbuild" value="{packages}" />
                {(Directory.Exists(Path.Combine(cache, "cake.tool")) ? $"<add key=\"cache\" value=\"{cache}\" />" : "")}
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        Run(repo, "dotnet", "new", "tool-manifest");
        Run(repo, "dotnet", "tool", "install", "CtBuild", "--version", version);
        Run(repo, "dotnet", "tool", "install", "cake.tool", "--version", "7.0.0");
        return repo;
    }

    /// <summary>Three random-search trials of the linear model: the test checks the plumbing, not the tuner.</summary>
    static void SmallBudget(string repo)
    {
        var path = Path.Combine(repo, "ctbuild.json");
        var config = File.ReadAllText(path).Replace("\"maxEvals\": 30", "\"maxEvals\": 3").Replace("\"sampler\": \"tpe\"", "\"sampler\": \"random\"")
            .Replace("\"resamples\": 1000", "\"resamples\": 200");
        var space = Regex.Match(config, "\"space\": \\{.*?\n    \\}", RegexOptions.Singleline);
        Assert.True(space.Success, "ctb init's config has no search space");
        File.WriteAllText(path, config.Replace(space.Value, "\"space\": { \"trainer\": { \"choice\": { \"LbfgsLogisticRegression\": {} } } }"));
    }

    string Run(string dir, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NUGET_PACKAGES"] = Path.Combine(_root, "nuget-packages");
        // The CLI's home too: its tool resolver cache (~/.dotnet/toolResolverCache) remembers where a
        // tool version was installed and would point the next run at this test's deleted folder.
        psi.Environment["DOTNET_CLI_HOME"] = Path.Combine(_root, "dotnet-home");
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["CAKE_SETTINGS_ENABLESCRIPTCACHE"] = "true";
        foreach (var k in new[] { "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV" }) psi.Environment.Remove(k);
        if (file == "dotnet" && args[0] == "pack") // packs from the restored graph
        {
            psi.Environment.Remove("NUGET_PACKAGES");
            psi.Environment.Remove("DOTNET_CLI_HOME");
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(8))) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{file} {string.Join(' ', args)} timed out"); }
        var all = stdout + stderr.Result;
        output.WriteLine($"--- {file} {string.Join(' ', args)} (exit {p.ExitCode}) ---\n{all}");
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed with exit {p.ExitCode}:\n{all}");
        return all;
    }
}
