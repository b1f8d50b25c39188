namespace CtBuild; public static class EngineInfo { public const string Name = "CtBuild"; }
