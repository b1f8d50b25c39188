namespace CtBuild.Tests.Evaluation;

/// <summary>Small labelled score sets for the evaluation tests, seeded so failures reproduce.</summary>
internal static class EvaluationData
{
    /// <summary>
    /// Scores drawn from <paramref name="levels"/> distinct values (few levels, many ties); positives
    /// score higher on average by <paramref name="lift"/> levels.
    /// </summary>
    public static (bool[] Labels, double[] Scores) Tied(int n, int levels, int seed, double positiveRate = 0.3, double lift = 2)
    {
        var random = new Random(seed);
        var labels = new bool[n];
        var scores = new double[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = random.NextDouble() < positiveRate;
            double level = random.Next(levels) + (labels[i] ? lift : 0);
            scores[i] = Math.Clamp(Math.Round(level), 0, levels - 1) / (levels - 1);
        }
        EnsureBothClasses(labels);
        return (labels, scores);
    }

    /// <summary>A candidate and a champion on the same rows; the champion is the candidate plus noise.</summary>
    public static (bool[] Labels, double[] Candidate, double[] Champion) Pair(int n, int seed, double championNoise, int decimals = 3)
    {
        var random = new Random(seed);
        var labels = new bool[n];
        var candidate = new double[n];
        var champion = new double[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = random.NextDouble() < 0.3;
            double signal = (labels[i] ? 1.0 : 0.0) + Gaussian(random);
            candidate[i] = Math.Round(Logistic(signal + 0.3 * Gaussian(random)), decimals);
            champion[i] = Math.Round(Logistic(signal + championNoise * Gaussian(random)), decimals);
        }
        EnsureBothClasses(labels);
        return (labels, candidate, champion);
    }

    /// <summary>AUC by comparing every positive with every negative: the O(n²) definition.</summary>
    public static double BruteForceAuc(bool[] labels, double[] scores)
    {
        double wins = 0;
        long pairs = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            if (!labels[i]) continue;
            for (int j = 0; j < labels.Length; j++)
            {
                if (labels[j]) continue;
                pairs++;
                if (scores[i] > scores[j]) wins += 1;
                else if (scores[i] == scores[j]) wins += 0.5;
            }
        }
        return wins / pairs;
    }

    private static void EnsureBothClasses(bool[] labels)
    {
        labels[0] = true;
        labels[^1] = false;
    }

    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));

    private static double Gaussian(Random random)
        => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
