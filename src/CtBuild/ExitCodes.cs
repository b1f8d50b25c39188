namespace CtBuild;

/// <summary>
/// The exit codes of every <c>ctb</c> verb, the one place they are defined (README "The ctb tool" lists them).
/// Scripts and the Cake script rely on them: 0 is success, 1 a failure of the work, 2 a mistake in the
/// command line or the config that a rerun alone will not fix.
/// </summary>
public static class ExitCodes
{
    /// <summary>The verb did its work (or found nothing to do).</summary>
    public const int Ok = 0;

    /// <summary>The work failed: bad data past the threshold, a failed stage, a lock not obtained, a disk error.</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or configuration: unknown verb or option, an invalid ctbuild.json, a missing input the user names.</summary>
    public const int BadUsage = 2;
}
