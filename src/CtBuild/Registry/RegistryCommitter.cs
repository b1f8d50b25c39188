using CtBuild.Tracking;

namespace CtBuild.Registry;

/// <summary>
/// Makes the promotion commit with the git CLI: commits exactly the given registry paths and
/// nothing else, whatever else is modified or staged in the repository.
/// </summary>
public sealed class RegistryCommitter(string workspaceRoot)
{
    /// <summary>The folder git runs in; paths are relative to it.</summary>
    public string WorkspaceRoot { get; } = Path.GetFullPath(workspaceRoot);

    /// <summary>True when <see cref="WorkspaceRoot"/> is inside a git work tree.</summary>
    public bool IsRepository => GitCli.Run(WorkspaceRoot, "rev-parse", "--is-inside-work-tree") is { Ok: true } r && r.StdOut.Trim() == "true";

    /// <summary>
    /// Commits <paramref name="paths"/> with <paramref name="message"/>. No commit (and no error) outside a
    /// repository or when the paths already match HEAD.
    /// </summary>
    /// <exception cref="RegistryCommitException">git refused (hook, configuration); the paths are unstaged again.</exception>
    public CommitResult Commit(IReadOnlyList<string> paths, string message)
    {
        if (!IsRepository) return new CommitResult(false, null, $"not a git repository: {WorkspaceRoot}");
        if (paths.Count == 0) return new CommitResult(false, null, "no registry files to commit");

        Git("add", ["--", .. paths]);
        if (GitCli.Run(WorkspaceRoot, ["diff", "--cached", "--quiet", "--", .. paths]).Ok)
            return new CommitResult(false, null, "registry files unchanged versus HEAD");

        // --only commits these paths' working-tree content and leaves other staged changes staged.
        var commit = GitCli.Run(WorkspaceRoot, [.. IdentityFallback(), "commit", "--quiet", "--only", "-m", message, "--", .. paths]);
        if (!commit.Ok)
        {
            Unstage(paths);
            throw new RegistryCommitException(
                $"git commit of {string.Join(", ", paths)} in {WorkspaceRoot} failed (exit {commit.ExitCode}):\n" +
                $"{(commit.StdErr + commit.StdOut).Trim()}\n" +
                "The registry files were restored to their previous state. Fix the cause (e.g. the pre-commit hook) " +
                "and promote again, or run with --no-commit.");
        }
        return new CommitResult(true, GitCli.Run(WorkspaceRoot, "rev-parse", "HEAD").StdOut.Trim(), "committed");
    }

    /// <summary>True when the working tree and index hold exactly HEAD's content for <paramref name="paths"/>.</summary>
    internal bool MatchesHead(IReadOnlyList<string> paths) =>
        GitCli.Run(WorkspaceRoot, ["status", "--porcelain", "--untracked-files=all", "--", .. paths]) is { Ok: true } r && r.StdOut.Trim().Length == 0;

    /// <summary>Puts the index entries of <paramref name="paths"/> back to HEAD (drops new files from the index).</summary>
    internal void Unstage(IReadOnlyList<string> paths)
    {
        if (paths.Count == 0 || !IsRepository) return;
        var hasHead = GitCli.Run(WorkspaceRoot, "rev-parse", "--verify", "--quiet", "HEAD").Ok;
        if (hasHead) GitCli.Run(WorkspaceRoot, ["reset", "--quiet", "--", .. paths]);
        else GitCli.Run(WorkspaceRoot, ["rm", "--cached", "--quiet", "--ignore-unmatch", "-r", "--", .. paths]);
    }

    private void Git(string verb, IEnumerable<string> args)
    {
        var result = GitCli.Run(WorkspaceRoot, [verb, .. args]);
        if (!result.Ok)
            throw new RegistryCommitException($"git {verb} in {WorkspaceRoot} failed (exit {result.ExitCode}):\n{result.StdErr.Trim()}");
    }

    // Only when git has no identity configured: a CI runner must still be able to commit.
    private List<string> IdentityFallback()
    {
        var args = new List<string>();
        if (!GitCli.Run(WorkspaceRoot, "config", "user.name").Ok)
            args.AddRange(["-c", $"user.name={Environment.UserName}"]);
        if (!GitCli.Run(WorkspaceRoot, "config", "user.email").Ok)
            args.AddRange(["-c", $"user.email={Environment.UserName}@{Environment.MachineName}"]);
        return args;
    }
}
