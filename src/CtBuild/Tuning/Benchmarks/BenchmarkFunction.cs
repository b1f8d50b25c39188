namespace CtBuild.Tuning.Benchmarks;

/// <summary>A standard minimisation test function with a box domain and a known global minimum.</summary>
public sealed record BenchmarkFunction(string Name, IReadOnlyList<(double Low, double High)> Bounds, double Minimum, Func<double[], double> Evaluate)
{
    /// <summary>One uniform parameter x0, x1, ... per dimension.</summary>
    public SearchSpace Space() =>
        new(Bounds.Select((b, i) => (SpaceNode)new ParameterNode($"x{i}", new FloatDistribution(b.Low, b.High))).ToArray());

    /// <summary>The function at a trial's parameters.</summary>
    public double At(IReadOnlyDictionary<string, object> parameters) =>
        Evaluate(Enumerable.Range(0, Bounds.Count).Select(i => (double)parameters[$"x{i}"]).ToArray());

    /// <summary>Branin-Hoo, 2-d on [-5, 10] × [0, 15], minimum 0.397887 at three points.</summary>
    public static BenchmarkFunction Branin { get; } = new("Branin", [(-5, 10), (0, 15)], 0.397887357729738, x =>
    {
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
        return Math.Pow(x[1] - b * x[0] * x[0] + c * x[0] - 6, 2) + 10 * (1 - t) * Math.Cos(x[0]) + 10;
    });

    /// <summary>Hartmann 6-d on [0, 1]^6, minimum −3.32237.</summary>
    public static BenchmarkFunction Hartmann6 { get; } = new("Hartmann6", Enumerable.Repeat((0.0, 1.0), 6).ToArray(), -3.32236801141551, x =>
    {
        double[] alpha = [1.0, 1.2, 3.0, 3.2];
        double[,] a = { { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 }, { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 } };
        double[,] p =
        {
            { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 }, { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
            { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 }, { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
        };
        double sum = 0;
        for (int i = 0; i < 4; i++)
        {
            double inner = 0;
            for (int j = 0; j < 6; j++) inner += a[i, j] * Math.Pow(x[j] - p[i, j], 2);
            sum += alpha[i] * Math.Exp(-inner);
        }
        return -sum;
    });

    /// <summary>Rosenbrock 4-d on [-5, 10]^4, minimum 0 at (1, 1, 1, 1).</summary>
    public static BenchmarkFunction Rosenbrock4 { get; } = new("Rosenbrock4", Enumerable.Repeat((-5.0, 10.0), 4).ToArray(), 0, x =>
    {
        double sum = 0;
        for (int i = 0; i < x.Length - 1; i++) sum += 100 * Math.Pow(x[i + 1] - x[i] * x[i], 2) + Math.Pow(1 - x[i], 2);
        return sum;
    });

    /// <summary>Ackley 5-d on [-32.768, 32.768]^5, minimum 0 at the origin.</summary>
    public static BenchmarkFunction Ackley5 { get; } = new("Ackley5", Enumerable.Repeat((-32.768, 32.768), 5).ToArray(), 0, x =>
    {
        double squares = x.Sum(v => v * v) / x.Length, cosines = x.Sum(v => Math.Cos(2 * Math.PI * v)) / x.Length;
        return -20 * Math.Exp(-0.2 * Math.Sqrt(squares)) - Math.Exp(cosines) + 20 + Math.E;
    });

    /// <summary>Levy 4-d on [-10, 10]^4, minimum 0 at (1, 1, 1, 1).</summary>
    public static BenchmarkFunction Levy4 { get; } = new("Levy4", Enumerable.Repeat((-10.0, 10.0), 4).ToArray(), 0, x =>
    {
        var w = x.Select(v => 1 + (v - 1) / 4).ToArray();
        int d = w.Length;
        double sum = Math.Pow(Math.Sin(Math.PI * w[0]), 2);
        for (int i = 0; i < d - 1; i++)
            sum += Math.Pow(w[i] - 1, 2) * (1 + 10 * Math.Pow(Math.Sin(Math.PI * w[i] + 1), 2));
        return sum + Math.Pow(w[d - 1] - 1, 2) * (1 + Math.Pow(Math.Sin(2 * Math.PI * w[d - 1]), 2));
    });

    /// <summary>The five functions of the tuner benchmark.</summary>
    public static IReadOnlyList<BenchmarkFunction> Standard { get; } = [Branin, Hartmann6, Rosenbrock4, Ackley5, Levy4];
}
