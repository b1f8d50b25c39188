using System.Runtime.InteropServices;
using System.Text;

namespace CtBuild.Lake;

/// <summary>
/// Creates <c>_delta_log/&lt;version&gt;.json</c> only if it does not exist, atomically: the content is
/// written and flushed to disk in a temporary file, then put in place with an operation that fails when
/// the target exists: link(2) on Unix (File.Move may fall back to rename(2), which replaces), MoveFileEx
/// without replace on Windows. Readers never see a half-written commit; two writers never both win.
/// </summary>
internal static class CommitFile
{
    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([MarshalAs(UnmanagedType.LPUTF8Str)] string existingPath,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    private const int EEXIST = 17;

    public const string TempPattern = ".ctb-commit-*.tmp";

    /// <summary>True when this call created the version; false when another writer already had.</summary>
    public static bool TryCreate(string tableFolder, long version, string content)
    {
        var target = DeltaLogFolder.CommitPath(tableFolder, version);
        var logFolder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(logFolder);
        if (File.Exists(target)) return false;
        var temp = Path.Combine(logFolder, $".ctb-commit-{Guid.NewGuid():N}.tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }
        try
        {
            CtBuild.Pipeline.FaultInjection.Point($"lake.after-commit-temp:{Path.GetFileName(tableFolder)}", temp);
            return PutIfAbsent(temp, target);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static bool PutIfAbsent(string source, string target)
    {
        if (OperatingSystem.IsWindows())
        {
            try { File.Move(source, target, overwrite: false); return true; }
            catch (IOException) when (File.Exists(target)) { return false; }
        }
        if (Link(source, target) == 0) return true;
        var errno = Marshal.GetLastWin32Error();
        if (errno == EEXIST) return false;
        throw new IOException($"Could not create commit {target} (link failed with errno {errno}). " +
            "The lake folder must be on a filesystem that supports hard links.");
    }
}
