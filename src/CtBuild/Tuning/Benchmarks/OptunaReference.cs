using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace CtBuild.Tuning.Benchmarks;

/// <summary>
/// Runs Optuna's TPESampler on the same five functions, bounds and seeds (first..first+n−1) beside CtBuild's, when a Python with
/// Optuna is installed (Debian: <c>apt-get install python3-optuna</c>, 3.1), so the benchmark prints both from one run.
/// The functions are written again in Python below; <see cref="BenchmarkFunction"/> is the reference for their values.
/// </summary>
public static class OptunaReference
{
    /// <summary>Per-seed regrets at <paramref name="evals"/> by function name, and Optuna's version; null with the reason when Optuna cannot run.</summary>
    public static (IReadOnlyDictionary<string, IReadOnlyList<double>>? Regrets, string Version, string? Problem) Run(
        IEnumerable<BenchmarkFunction> functions, int evals, int seeds, bool multivariate, int firstSeed = 0, string python = "/usr/bin/python3", IProgress<string>? log = null)
    {
        var script = Path.Combine(Path.GetTempPath(), $"ctb-optuna-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        try
        {
            var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { script, evals.ToString(CultureInfo.InvariantCulture), seeds.ToString(CultureInfo.InvariantCulture),
                         firstSeed.ToString(CultureInfo.InvariantCulture), multivariate ? "multivariate" : "univariate", string.Join(",", functions.Select(f => f.Name)) })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            process.ErrorDataReceived += (_, e) => { if (e.Data is { } line && line.StartsWith("optuna ", StringComparison.Ordinal)) log?.Report(line); };
            process.BeginErrorReadLine();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) return (null, "", $"{python} exited with {process.ExitCode} (is python3-optuna installed?)");
            var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
            var regrets = json.EnumerateObject().Where(p => p.Name != "version")
                .ToDictionary(p => p.Name, p => (IReadOnlyList<double>)p.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray());
            return (regrets, json.GetProperty("version").GetString() ?? "", null);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, "", $"{python} could not start: {e.Message}");
        }
        finally
        {
            File.Delete(script);
        }
    }

    private const string Script = """
import json, math, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)

def branin(x):
    b = 5.1 / (4 * math.pi ** 2); c = 5 / math.pi; t = 1 / (8 * math.pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10
def hartmann6(x):
    alpha = [1.0, 1.2, 3.0, 3.2]
    A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
    P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
         [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
    return -sum(alpha[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))) for i in range(4))
def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))
def ackley(x):
    n = len(x); s = sum(v * v for v in x) / n; c = sum(math.cos(2 * math.pi * v) for v in x) / n
    return -20 * math.exp(-0.2 * math.sqrt(s)) - math.exp(c) + 20 + math.e
def levy(x):
    w = [1 + (v - 1) / 4 for v in x]; d = len(w)
    s = math.sin(math.pi * w[0]) ** 2
    for i in range(d - 1): s += (w[i] - 1) ** 2 * (1 + 10 * math.sin(math.pi * w[i] + 1) ** 2)
    return s + (w[d - 1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[d - 1]) ** 2)

FUNCS = {
    "Branin": (branin, [(-5, 10), (0, 15)], 0.397887357729738),
    "Hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551),
    "Rosenbrock4": (rosenbrock, [(-5, 10)] * 4, 0.0),
    "Ackley5": (ackley, [(-32.768, 32.768)] * 5, 0.0),
    "Levy4": (levy, [(-10, 10)] * 4, 0.0),
}
evals = int(sys.argv[1]); seeds = int(sys.argv[2]); first = int(sys.argv[3]); multivariate = sys.argv[4] == "multivariate"; names = sys.argv[5].split(",")
out = {"version": optuna.__version__}
for name in names:
    f, bounds, minimum = FUNCS[name]
    regrets = []
    for seed in range(first, first + seeds):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate)
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda t: f([t.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]), n_trials=evals)
        regrets.append(study.best_value - minimum)
    out[name] = [float(r) for r in regrets]
    print(f"optuna {name}: median {float(np.median(regrets))}", file=sys.stderr, flush=True)
print(json.dumps(out))
""";
}
