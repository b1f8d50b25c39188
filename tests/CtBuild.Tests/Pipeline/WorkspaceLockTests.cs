using System.Text.Json;
using CtBuild.Pipeline;

namespace CtBuild.Tests.Pipeline;

public sealed class WorkspaceLockTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ctb-lock-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void A_second_holder_fails_at_once_naming_the_first()
    {
        using var first = WorkspaceLock.Acquire(_dir, "ctb tune", TimeSpan.Zero, new MemoryLog());
        var ex = Assert.Throws<CtBuildException>(() => WorkspaceLock.Acquire(_dir, "ctb ingest", TimeSpan.Zero, new MemoryLog()));
        Assert.Contains($"process {Environment.ProcessId} on {Environment.MachineName}", ex.Message);
        Assert.Contains("ctb tune", ex.Message);
    }

    [Fact]
    public async Task A_waiting_holder_gets_the_lock_when_it_is_released()
    {
        var first = WorkspaceLock.Acquire(_dir, "first", TimeSpan.Zero, new MemoryLog());
        var log = new MemoryLog();
        var second = Task.Run(() => WorkspaceLock.Acquire(_dir, "second", TimeSpan.FromSeconds(30), log));
        // Release only once the second holder is really waiting (on a busy machine its task may start late).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!log.Lines.Any(l => l.Contains("waiting for the workspace lock held by")) && clock.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(20);
        Assert.False(second.IsCompleted);
        Assert.Contains(log.Lines, l => l.Contains("waiting for the workspace lock held by"));
        first.Dispose();
        using var got = await second.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_stale_lock_of_a_dead_process_is_taken_over()
    {
        var dead = new LockHolder(int.MaxValue - 7, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-1), "ctb tune", 0);
        File.WriteAllText(WorkspaceLock.PathFor(_dir), JsonSerializer.Serialize(dead));
        var log = new MemoryLog();
        using var taken = WorkspaceLock.Acquire(_dir, "ctb ingest", TimeSpan.Zero, log);
        Assert.Contains(log.Lines, l => l.Contains("took over a stale workspace lock"));
        Assert.Equal(Environment.ProcessId, WorkspaceLock.ReadHolder(WorkspaceLock.PathFor(_dir))!.ProcessId);
    }

    [Fact]
    public void A_lock_from_another_host_is_never_guessed_stale()
    {
        var remote = new LockHolder(1, "some-other-host", DateTimeOffset.UtcNow, "ctb tune", 0);
        File.WriteAllText(WorkspaceLock.PathFor(_dir), JsonSerializer.Serialize(remote));
        var ex = Assert.Throws<CtBuildException>(() => WorkspaceLock.Acquire(_dir, "ctb ingest", TimeSpan.Zero, new MemoryLog()));
        Assert.Contains("some-other-host", ex.Message);
    }
}
