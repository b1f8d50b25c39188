namespace CtBuild.Tracking;

/// <summary>The code a run was made with: the git commit and whether the working tree had uncommitted changes.</summary>
public sealed record CodeVersion(string? Commit, bool Dirty)
{
    /// <summary>
    /// Asks git about <paramref name="workspace"/>. Outside a repository (or before the first commit)
    /// the commit is null; git missing is treated the same way. Dirty means tracked files differ from
    /// HEAD; untracked files (generated data, reports) do not count.
    /// </summary>
    public static CodeVersion Detect(string workspace)
    {
        var head = GitCli.Run(workspace, "rev-parse", "--verify", "--quiet", "HEAD");
        if (!head.Ok) return new CodeVersion(null, false);
        var status = GitCli.Run(workspace, "status", "--porcelain", "--untracked-files=no");
        return new CodeVersion(head.StdOut.Trim(), status.Ok && status.StdOut.Trim().Length > 0);
    }
}
