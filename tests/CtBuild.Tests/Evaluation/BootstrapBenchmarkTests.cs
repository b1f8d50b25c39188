using CtBuild.Evaluation.Benchmarks;

namespace CtBuild.Tests.Evaluation;

// Checks that the benchmark runs and reports; it times nothing (figures come from running it in Release).
public class BootstrapBenchmarkTests
{
    [Fact]
    public void Runs_at_a_tiny_size_and_formats_a_table()
    {
        var result = BootstrapBenchmark.Run(n: 3000, resamples: 40, naiveResamples: 5);

        Assert.True(result.NaiveMatchesFast);
        Assert.Equal(5, result.NaiveResamplesTimed);
        Assert.Equal(result.NaiveMeasured * 8, result.NaiveExtrapolated);
        string table = result.Format();
        Assert.Contains("3,000 rows, 40 paired resamples", table);
        Assert.Contains("naive, extrapolated to 40 resamples", table);
        Assert.Contains("DeLong test, all rows", table);
    }
}
