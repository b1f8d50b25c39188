using CtBuild.Pipeline;
using Xunit.Abstractions;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// Two workspaces writing one lake (a shared folder), as two processes whose writes are lined up with the
/// <c>pause</c> fault action: the loser of the race for a version retries when its change still makes
/// sense (an append) and fails with a conflict error when it does not (an overwrite based on an old
/// version). In-process races of the writer are in <see cref="Lake.ConcurrentWriterTests"/>.
/// </summary>
[Trait("Category", "CrashSafety")]
public sealed class SharedLakeTests(ITestOutputHelper output) : IDisposable
{
    readonly string _lake = Directory.CreateTempSubdirectory("ctb-shared-lake-").FullName;
    readonly string _resume = Path.Combine(Path.GetTempPath(), $"ctb-resume-{Guid.NewGuid():N}");

    public void Dispose()
    {
        Directory.Delete(_lake, recursive: true);
        File.Delete(_resume);
    }

    Dictionary<string, string> PauseAt(string point) => new()
    {
        [FaultInjection.PointVariable] = point,
        [FaultInjection.ActionVariable] = "pause",
        [FaultInjection.ResumeVariable] = _resume,
    };

    [Fact]
    public void The_loser_of_an_append_race_retries_and_the_loser_of_an_overwrite_race_fails_with_a_conflict()
    {
        using var a = new CrashWorkspace(lakeDir: _lake, delivery: "a");
        using var b = new CrashWorkspace(lakeDir: _lake, delivery: "b", firstId: 10_001);

        // Append: A has written its raw data file but not committed; B ingests and commits first.
        using (var first = a.StartCtb(["ingest"], PauseAt("lake.after-data-file:raw")))
        {
            Assert.True(first.WaitForOutput("fault point lake.after-data-file:raw reached", TimeSpan.FromSeconds(60)), first.OutputSoFar);
            var winner = b.Ctb(["ingest"]);
            Assert.Equal(0, winner.ExitCode);
            File.WriteAllText(_resume, "");
            var loser = first.WaitForExit(TimeSpan.FromSeconds(60));
            output.WriteLine($"append race: B exit {winner.ExitCode}, A exit {loser.ExitCode}\n{loser.Output}");
            Assert.Equal(0, loser.ExitCode);
        }
        var raw = LakeAudit.Table(_lake, "raw");
        Assert.Empty(raw.Problems);
        Assert.Equal(1, raw.Latest); // B's version 0, then A's retried commit as version 1
        Assert.Equal((2L * CrashWorkspace.GoodRows, 2L * CrashWorkspace.GoodRows), a.RowCount("raw")); // both deliveries, each row once
        File.Delete(_resume);

        // Overwrite: A computed features from raw v1; B commits features first; A's commit must not silently replace B's.
        using (var first = a.StartCtb(["features"], PauseAt("lake.after-data-file:features")))
        {
            Assert.True(first.WaitForOutput("fault point lake.after-data-file:features reached", TimeSpan.FromSeconds(60)), first.OutputSoFar);
            Assert.Equal(0, b.Ctb(["features"]).ExitCode);
            File.WriteAllText(_resume, "");
            var loser = first.WaitForExit(TimeSpan.FromSeconds(60));
            output.WriteLine($"overwrite race: A exit {loser.ExitCode}\n{loser.Output}");
            Assert.Equal(1, loser.ExitCode);
            Assert.Contains("was committed by another writer", loser.StdErr);
            Assert.Contains("Nothing was committed", loser.StdErr);
        }
        var features = LakeAudit.Table(_lake, "features");
        Assert.Empty(features.Problems);
        Assert.Equal(0, features.Latest);
        Assert.Empty(features.Leftovers); // the loser deleted its own data file
        Assert.Equal(0, a.Ctb(["features"]).ExitCode); // rerun as the error says: reads B's version, content unchanged
        Assert.Equal(0, LakeAudit.Table(_lake, "features").Latest);
    }
}
