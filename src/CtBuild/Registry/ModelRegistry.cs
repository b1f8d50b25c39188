using CtBuild.Storage;
using System.Text;
using System.Text.Json;
using CtBuild.Tracking;

namespace CtBuild.Registry;

/// <summary>
/// The model registry of record: plain files under &lt;workspace&gt;/models/&lt;name&gt;/ that git commits.
/// model.json, versions/vN.json (+ versions/vN/ artifacts), aliases.json and an append-only
/// history.jsonl. Every change is all-or-nothing (see <see cref="RegistryTransaction"/>).
/// </summary>
public sealed class ModelRegistry
{
    /// <summary>The alias of the model in production.</summary>
    public const string ChampionAlias = "champion";

    private readonly object _gate = new();

    private ModelRegistry(string root)
    {
        WorkspaceRoot = root;
        Committer = new RegistryCommitter(root);
    }

    /// <summary>The workspace folder that holds models/.</summary>
    public string WorkspaceRoot { get; }

    /// <summary>Commits registry changes in <see cref="WorkspaceRoot"/>.</summary>
    public RegistryCommitter Committer { get; }

    /// <summary>Opens the registry under <paramref name="workspaceRoot"/>, finishing or undoing changes a crashed process left behind.</summary>
    public static ModelRegistry Open(string workspaceRoot)
    {
        var registry = new ModelRegistry(Path.GetFullPath(workspaceRoot));
        var models = Path.Combine(registry.WorkspaceRoot, "models");
        if (Directory.Exists(models))
        {
            foreach (var folder in Directory.EnumerateDirectories(models))
            {
                var name = Path.GetFileName(folder);
                if (!File.Exists(Path.Combine(folder, ".pending.json"))) continue;
                var intent = RegistryFiles.Read<PendingIntent>(registry.WorkspaceRoot, RegistryFiles.Pending(name));
                if (intent.Owner.IsGone()) RegistryTransaction.Recover(registry.WorkspaceRoot, name);
            }
        }
        return registry;
    }

    /// <summary>All registered models, by name.</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var models = Path.Combine(WorkspaceRoot, "models");
        if (!Directory.Exists(models)) return [];
        return Directory.EnumerateDirectories(models)
            .Select(Path.GetFileName)
            .Where(n => File.Exists(RegistryFiles.Full(WorkspaceRoot, RegistryFiles.ModelJson(n!))))
            .Select(n => RegistryFiles.Read<ModelInfo>(WorkspaceRoot, RegistryFiles.ModelJson(n!)))
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>A model with its versions and aliases.</summary>
    /// <exception cref="RegistryException">No such model.</exception>
    public RegisteredModel Get(string name)
    {
        var info = Info(name) ?? throw NoModel(name);
        var versions = VersionNumbers(name).Select(v => GetVersion(name, v)).ToList();
        return new RegisteredModel(info, versions, Aliases(name));
    }

    /// <summary>Version <paramref name="version"/> of model <paramref name="name"/>.</summary>
    public ModelVersion GetVersion(string name, int version)
    {
        RegistryFiles.CheckName(name, "Model name");
        var relative = RegistryFiles.VersionJson(name, version);
        if (!File.Exists(RegistryFiles.Full(WorkspaceRoot, relative)))
        {
            if (Info(name) is null) throw NoModel(name);
            throw new RegistryException(
                $"Model '{name}' has no version {version}; it has {Describe(VersionNumbers(name))}. See `ctb registry show {name}`.");
        }
        return RegistryFiles.Read<ModelVersion>(WorkspaceRoot, relative);
    }

    /// <summary>The version <paramref name="alias"/> points to, or null when the alias is not set.</summary>
    public ModelVersion? ResolveAlias(string name, string alias) =>
        Aliases(name).TryGetValue(alias, out var version) ? GetVersion(name, version) : null;

    /// <summary>Alias to version for model <paramref name="name"/> (empty when none is set).</summary>
    public IReadOnlyDictionary<string, int> Aliases(string name)
    {
        var relative = RegistryFiles.Aliases(RegistryFiles.CheckName(name, "Model name"));
        return File.Exists(RegistryFiles.Full(WorkspaceRoot, relative))
            ? new SortedDictionary<string, int>(RegistryFiles.Read<Dictionary<string, int>>(WorkspaceRoot, relative), StringComparer.Ordinal)
            : new SortedDictionary<string, int>(StringComparer.Ordinal);
    }

    /// <summary>The model's events, oldest first.</summary>
    public IReadOnlyList<RegistryEvent> History(string name)
    {
        var path = RegistryFiles.Full(WorkspaceRoot, RegistryFiles.History(RegistryFiles.CheckName(name, "Model name")));
        if (!File.Exists(path)) return [];
        return File.ReadAllLines(path).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<RegistryEvent>(l, RegistryFiles.JsonLine)!).ToList();
    }

    /// <summary>Registers a new version (files only, no alias, no commit) and returns its number.</summary>
    public int RegisterVersion(string name, ModelVersionDraft draft)
    {
        lock (_gate)
        {
            using var tx = RegistryTransaction.Begin(WorkspaceRoot, RegistryFiles.CheckName(name, "Model name"));
            var change = new ModelChange(this, name);
            var version = change.Register(tx, draft, Hash(draft));
            change.WriteTo(tx);
            tx.Apply(null, "");
            return version;
        }
    }

    /// <summary>
    /// The promotion: registers <paramref name="draft"/> as a new version, copies its artifacts, moves
    /// <c>champion</c> to it, records Promoted with <paramref name="decisionNumbers"/>, and (when
    /// <paramref name="commit"/>) commits exactly those files with <paramref name="message"/>. All or nothing.
    /// When the champion already has this content nothing is written or committed.
    /// </summary>
    public RegistryUpdate Promote(string name, ModelVersionDraft draft, IReadOnlyDictionary<string, double> decisionNumbers,
        string message, bool commit)
    {
        lock (_gate)
        {
            using var tx = RegistryTransaction.Begin(WorkspaceRoot, RegistryFiles.CheckName(name, "Model name"));
            var change = new ModelChange(this, name);
            var artifacts = Hash(draft);
            if (change.Champion is { } champion && change.SameContent(GetVersion(name, champion), draft, artifacts))
                return Unchanged(champion, commit, $"v{champion} of '{name}' is already the champion with this content; nothing to commit");

            var version = change.Register(tx, draft, artifacts);
            change.MoveAlias(RegistryEventKind.Promoted, ChampionAlias, version, message, numbers: decisionNumbers);
            return change.Apply(tx, version, commit, message);
        }
    }

    /// <summary>Points <paramref name="alias"/> (e.g. challenger) at <paramref name="version"/>.</summary>
    public RegistryUpdate SetAlias(string name, string alias, int version, string reason, bool commit = false)
    {
        lock (_gate)
        {
            RegistryFiles.CheckName(alias, "Alias");
            GetVersion(name, version);
            using var tx = RegistryTransaction.Begin(WorkspaceRoot, name);
            var change = new ModelChange(this, name);
            if (change.Aliases.GetValueOrDefault(alias) == version)
                return Unchanged(version, commit, $"alias '{alias}' of '{name}' already points to v{version}");
            change.MoveAlias(RegistryEventKind.AliasSet, alias, version, reason);
            return change.Apply(tx, version, commit, $"Set {name} alias {alias} to v{version}: {reason}");
        }
    }

    /// <summary>Records that <paramref name="candidate"/> (a run id or draft label) was not promoted, with the decision's figures.</summary>
    public RegistryUpdate RecordRejected(string name, string candidate, IReadOnlyDictionary<string, double> numbers, string reason,
        bool commit = false)
    {
        lock (_gate)
        {
            using var tx = RegistryTransaction.Begin(WorkspaceRoot, RegistryFiles.CheckName(name, "Model name"));
            var change = new ModelChange(this, name);
            change.EnsureModel(tx, null);
            change.Add(new RegistryEvent(RegistryEventKind.Rejected, DateTimeOffset.UtcNow, RegistryFiles.Actor, reason,
                Candidate: candidate, Numbers: Sorted(numbers)));
            return change.Apply(tx, null, commit, $"Reject {name} candidate {candidate}: {reason}");
        }
    }

    /// <summary>
    /// Moves <c>champion</c> back to <paramref name="toVersion"/>, or to the champion before the current one
    /// per the history, records RolledBack and (by default) commits. The target's artifacts are verified first.
    /// </summary>
    public RegistryUpdate Rollback(string name, int? toVersion, string reason, bool commit = true)
    {
        lock (_gate)
        {
            RegistryFiles.CheckName(name, "Model name");
            var current = Aliases(name).TryGetValue(ChampionAlias, out var c) ? c
                : throw new RegistryException($"Model '{name}' has no champion to roll back. Promote a version first.");
            var target = toVersion ?? PreviousChampion(name)
                ?? throw new RegistryException(
                    $"Model '{name}' has no earlier champion in its history (current: v{current}). Name the version: `ctb registry rollback {name} --to <N>`.");
            VerifyArtifacts(name, target);
            using var tx = RegistryTransaction.Begin(WorkspaceRoot, name);
            var change = new ModelChange(this, name);
            if (target == current) return Unchanged(target, commit, $"v{target} of '{name}' is already the champion");
            change.MoveAlias(RegistryEventKind.RolledBack, ChampionAlias, target, reason);
            return change.Apply(tx, target, commit, $"Roll back {name} to v{target}: {reason}");
        }
    }

    /// <summary>Checks every artifact of a version against its recorded sha256.</summary>
    /// <exception cref="RegistryIntegrityException">A file is missing or differs.</exception>
    public void VerifyArtifacts(string name, int version)
    {
        if (FindDamaged(name, version).FirstOrDefault() is { } damaged) throw damaged;
    }

    /// <summary>
    /// The artifacts of a version whose file is missing or no longer has its recorded sha256, each as the
    /// error that names it; empty when the version is intact. Every file is hashed in full (no size/mtime shortcut).
    /// </summary>
    public IReadOnlyList<RegistryIntegrityException> FindDamaged(string name, int version)
    {
        var damaged = new List<RegistryIntegrityException>();
        foreach (var artifact in GetVersion(name, version).Artifacts)
        {
            var relative = $"{RegistryFiles.ModelFolder(name)}/{artifact.Path}";
            var full = RegistryFiles.Full(WorkspaceRoot, relative);
            var actual = File.Exists(full) ? Hashing.Sha256File(full) : "missing";
            if (actual != artifact.Sha256) damaged.Add(new RegistryIntegrityException(relative, artifact.Sha256, actual));
        }
        return damaged;
    }

    /// <summary>
    /// The content of an artifact (model.zip by default), checked against its recorded sha256. The bytes
    /// returned are the bytes checked.
    /// </summary>
    /// <exception cref="RegistryIntegrityException">The file is missing or differs.</exception>
    public Stream OpenModelFile(string name, int version, string artifact = "model.zip")
    {
        var record = GetVersion(name, version);
        var entry = record.Artifacts.FirstOrDefault(a => a.Name == artifact)
                    ?? throw new RegistryException(
                        $"Version {version} of '{name}' has no artifact '{artifact}'; it has {string.Join(", ", record.Artifacts.Select(a => a.Name))}.");
        var relative = $"{RegistryFiles.ModelFolder(name)}/{entry.Path}";
        var full = RegistryFiles.Full(WorkspaceRoot, relative);
        if (!File.Exists(full)) throw new RegistryIntegrityException(relative, entry.Sha256, "missing");
        var bytes = File.ReadAllBytes(full);
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        if (actual != entry.Sha256) throw new RegistryIntegrityException(relative, entry.Sha256, actual);
        return new MemoryStream(bytes, writable: false);
    }

    // Replays the history as a stack of champions: a promotion pushes, a rollback pops back to its target.
    private int? PreviousChampion(string name)
    {
        var stack = new List<int>();
        foreach (var e in History(name).Where(e => e.Alias == ChampionAlias && e.Version is not null))
        {
            var v = e.Version!.Value;
            var at = stack.LastIndexOf(v);
            if (e.Kind == RegistryEventKind.RolledBack && at >= 0) stack.RemoveRange(at + 1, stack.Count - at - 1);
            else stack.Add(v);
        }
        return stack.Count >= 2 ? stack[^2] : null;
    }

    private ModelInfo? Info(string name)
    {
        var relative = RegistryFiles.ModelJson(RegistryFiles.CheckName(name, "Model name"));
        return File.Exists(RegistryFiles.Full(WorkspaceRoot, relative)) ? RegistryFiles.Read<ModelInfo>(WorkspaceRoot, relative) : null;
    }

    private List<int> VersionNumbers(string name)
    {
        var folder = RegistryFiles.Full(WorkspaceRoot, $"{RegistryFiles.ModelFolder(name)}/versions");
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, "v*.json")
            .Select(f => int.TryParse(Path.GetFileNameWithoutExtension(f)[1..], out var v) ? v : 0)
            .Where(v => v > 0).Order().ToList();
    }

    private static List<(DraftArtifact Draft, long Size, string Sha256)> Hash(ModelVersionDraft draft) =>
        draft.Artifacts.Select(a =>
        {
            CheckArtifactName(a.Name);
            if (!File.Exists(a.SourcePath)) throw new RegistryException($"Artifact '{a.Name}' source {a.SourcePath} does not exist.");
            return (a, new FileInfo(a.SourcePath).Length, Hashing.Sha256File(a.SourcePath));
        }).ToList();

    private static void CheckArtifactName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || Path.IsPathRooted(name) || name.Split('/', '\\').Any(p => p is "" or "." or ".."))
            throw new RegistryException($"Artifact name '{name}' must be a relative path like 'model.zip' without '..'.", exitCode: 2);
    }

    private static SortedDictionary<string, T> Sorted<T>(IReadOnlyDictionary<string, T> values) => new(values.ToDictionary(), StringComparer.Ordinal);

    private static RegistryUpdate Unchanged(int version, bool commit, string reason) =>
        new(version, false, [], commit ? new CommitResult(false, null, reason) : null);

    private static RegistryException NoModel(string name) =>
        new($"No model '{name}' in the registry. Registered models are listed by `ctb registry list`.");

    private static string Describe(List<int> versions) =>
        versions.Count == 0 ? "no versions" : "versions " + string.Join(", ", versions.Select(v => $"v{v}"));

    /// <summary>The new state of one model's files while a change is planned.</summary>
    private sealed class ModelChange(ModelRegistry registry, string name)
    {
        private readonly List<RegistryEvent> _events = [];
        private bool _aliasesChanged;

        public SortedDictionary<string, int> Aliases { get; } = new(registry.Aliases(name).ToDictionary(), StringComparer.Ordinal);

        public int? Champion => Aliases.TryGetValue(ChampionAlias, out var v) ? v : null;

        public void Add(RegistryEvent e) => _events.Add(e);

        public void EnsureModel(RegistryTransaction tx, string? description)
        {
            if (registry.Info(name) is null)
                tx.Write(RegistryFiles.ModelJson(name), RegistryFiles.Serialize(new ModelInfo(name, description, DateTimeOffset.UtcNow)));
        }

        public int Register(RegistryTransaction tx, ModelVersionDraft draft, List<(DraftArtifact Draft, long Size, string Sha256)> artifacts)
        {
            EnsureModel(tx, draft.ModelDescription);
            var existing = registry.VersionNumbers(name);
            var version = existing.Count == 0 ? 1 : existing[^1] + 1;
            foreach (var (artifact, _, sha256) in artifacts)
                tx.Copy($"{RegistryFiles.VersionFolder(name, version)}/{artifact.Name.Replace('\\', '/')}", artifact.SourcePath, sha256);
            tx.Write(RegistryFiles.VersionJson(name, version), RegistryFiles.Serialize(ToVersion(draft, artifacts, version, DateTimeOffset.UtcNow)));
            Add(new RegistryEvent(RegistryEventKind.Registered, DateTimeOffset.UtcNow, RegistryFiles.Actor,
                $"registered from run {draft.SourceRunId ?? "(none)"}", Version: version, Candidate: draft.SourceRunId));
            return version;
        }

        public void MoveAlias(RegistryEventKind kind, string alias, int version, string reason, IReadOnlyDictionary<string, double>? numbers = null)
        {
            int? previous = Aliases.TryGetValue(alias, out var p) ? p : null;
            Aliases[alias] = version;
            _aliasesChanged = true;
            Add(new RegistryEvent(kind, DateTimeOffset.UtcNow, RegistryFiles.Actor, reason, version, alias, previous,
                Numbers: numbers is null ? null : Sorted(numbers)));
        }

        /// <summary>True when <paramref name="draft"/> would register exactly what <paramref name="existing"/> holds.</summary>
        public bool SameContent(ModelVersion existing, ModelVersionDraft draft, List<(DraftArtifact Draft, long Size, string Sha256)> artifacts)
        {
            var candidate = ToVersion(draft, artifacts, existing.Version, existing.Created);
            return RegistryFiles.Serialize(candidate).AsSpan().SequenceEqual(RegistryFiles.Serialize(existing));
        }

        public RegistryUpdate Apply(RegistryTransaction tx, int? version, bool commit, string message)
        {
            WriteTo(tx);
            var result = tx.Apply(commit ? registry.Committer : null, message);
            return new RegistryUpdate(version, true, tx.Paths, result);
        }

        public void WriteTo(RegistryTransaction tx)
        {
            if (_aliasesChanged) tx.Write(RegistryFiles.Aliases(name), RegistryFiles.Serialize(Aliases));
            if (_events.Count == 0) return;
            // history.jsonl only grows; it is rewritten whole (temp + rename) so a reader never sees half a line.
            var path = RegistryFiles.Full(registry.WorkspaceRoot, RegistryFiles.History(name));
            var text = new StringBuilder(File.Exists(path) ? File.ReadAllText(path) : "");
            foreach (var e in _events) text.Append(JsonSerializer.Serialize(e, RegistryFiles.JsonLine)).Append('\n');
            tx.Write(RegistryFiles.History(name), Encoding.UTF8.GetBytes(text.ToString()));
        }

        private static ModelVersion ToVersion(ModelVersionDraft draft, List<(DraftArtifact Draft, long Size, string Sha256)> artifacts,
            int version, DateTimeOffset created) =>
            new(version, draft.SourceRunId, created, draft.Trainer, Sorted(draft.TrainerParams), Sorted(draft.Metrics),
                Sorted(draft.DataVersions), draft.InputSignature.ToList(),
                artifacts.Select(a => new ArtifactEntry(a.Draft.Name, $"versions/v{version}/{a.Draft.Name.Replace('\\', '/')}", a.Size, a.Sha256))
                    .ToList());
    }
}
