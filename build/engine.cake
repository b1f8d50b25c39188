// CtBuild's own repository only: builds the ctb tool from src/ when its sources changed. A stamp of the
// build's inputs (path, size and modification time of every source, project and props file) is kept
// beside ctb.dll; when it matches, MSBuild is not started at all (its own up-to-date check costs
// seconds). A workspace made by `ctb init` uses the installed tool and does not load this file.
using System.Security.Cryptography;

var engineOutput = MakeAbsolute(Directory("src/CtBuild.Cli/bin/Release/net10.0"));
var engineStamp = engineOutput.CombineWithFilePath(".ctb-build-stamp");
// Stages run this ctb.dll (unless --ctb= names another); known before Build runs, so a dry run can tell.
ctbDll = ctbDll ?? engineOutput.CombineWithFilePath("ctb.dll").FullPath;

string EngineInputsStamp()
{
    var root = MakeAbsolute(Directory(".")).FullPath;
    var files = new List<string>();
    foreach (var name in new[] { "build/ctb.cake", "global.json", "Directory.Build.props", "Directory.Packages.props", "nuget.config", "NuGet.Config" })
        if (System.IO.File.Exists(System.IO.Path.Combine(root, name))) files.Add(System.IO.Path.Combine(root, name));
    foreach (var file in System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(root, "src"), "*", System.IO.SearchOption.AllDirectories))
    {
        var relative = System.IO.Path.GetRelativePath(root, file).Replace('\\', '/');
        if (relative.Contains("/bin/") || relative.Contains("/obj/")) continue;
        files.Add(file);
    }
    files.Sort(StringComparer.Ordinal);
    var text = new System.Text.StringBuilder();
    foreach (var file in files)
    {
        var info = new System.IO.FileInfo(file);
        text.Append(System.IO.Path.GetRelativePath(root, file)).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
    }
    return Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString())));
}

void BuildEngine()
{
    if (ctbPrebuilt != "")
    {
        if (!FileExists(ctbDll)) throw new CakeException($"--ctb names {ctbDll}, which does not exist.");
        Say($"Using the prebuilt {ctbDll}");
        return;
    }
    var stamp = EngineInputsStamp();
    if (FileExists(ctbDll) && FileExists(engineStamp) && System.IO.File.ReadAllText(engineStamp.FullPath) == stamp)
    {
        Say("ctb is up to date with src/ (build stamp matches).", Verbosity.Verbose);
        return;
    }
    DotNetBuild("src/CtBuild.Cli/CtBuild.Cli.csproj", new DotNetBuildSettings
    {
        Configuration = "Release",
        NoLogo = true,
        Verbosity = DotNetVerbosity.Quiet,
        ArgumentCustomization = args => args.Append("-nologo").Append("-clp:ErrorsOnly"),
    });
    System.IO.File.WriteAllText(engineStamp.FullPath, stamp);
}
