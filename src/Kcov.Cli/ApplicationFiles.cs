using System.Text.Json;
using System.Text.Json.Nodes;
using Kcov.Coverage;
using Kcov.Instrumentation;

namespace Kcov.Cli;

/// <summary>
/// Makes an instrumented application runnable from the output directory, with `dotnet out/App.dll`:
/// when the input has an App.runtimeconfig.json it is copied; its App.deps.json is copied with
/// Kcov.Runtime added (the host only loads what deps.json lists); and the dependencies it lists that
/// the output directory lacks are copied uninstrumented, each with its PDB when one is beside it. Files already in the output (instrumented
/// ones above all) are never overwritten.
/// </summary>
internal static class ApplicationFiles
{
    private const string RuntimeLibrary = "Kcov.Runtime/1.0.0.0";

    public static void Complete(string inputAssembly, string outputDirectory)
    {
        string inputDir = Path.GetDirectoryName(Path.GetFullPath(inputAssembly))!;
        string name = Path.GetFileNameWithoutExtension(inputAssembly);
        string runtimeConfig = Path.Combine(inputDir, name + ".runtimeconfig.json");
        if (!File.Exists(runtimeConfig))
            return;
        AtomicFile.Copy(runtimeConfig, Path.Combine(outputDirectory, Path.GetFileName(runtimeConfig)));
        string deps = Path.Combine(inputDir, name + ".deps.json");
        if (!File.Exists(deps))
            return;
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(deps)) ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new InstrumentationException($"'{deps}' is not valid JSON ({e.Message}); fix or delete it.", e);
        }
        foreach (string asset in RuntimeAssets(root))
        {
            string source = Path.Combine(inputDir, Path.GetFileName(asset));
            string target = Path.Combine(outputDirectory, Path.GetFileName(asset));
            if (File.Exists(source) && !File.Exists(target))
            {
                AtomicFile.Copy(source, target);
                // Its frames in crash reports get their lines.
                if (File.Exists(Path.ChangeExtension(source, ".pdb")) && !File.Exists(Path.ChangeExtension(target, ".pdb")))
                    AtomicFile.Copy(Path.ChangeExtension(source, ".pdb"), Path.ChangeExtension(target, ".pdb"));
            }
        }
        AddRuntime(root);
        AtomicFile.WriteAllText(Path.Combine(outputDirectory, Path.GetFileName(deps)), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static IEnumerable<string> RuntimeAssets(JsonNode root) =>
        (root["targets"] as JsonObject)?.SelectMany(target => (target.Value as JsonObject) ?? [])
            .SelectMany(library => (library.Value?["runtime"] as JsonObject) ?? [])
            .Select(asset => asset.Key) ?? [];

    private static void AddRuntime(JsonNode root)
    {
        if (root["targets"] is JsonObject targets)
        {
            foreach (var (_, target) in targets)
            {
                if (target is JsonObject libraries && !libraries.ContainsKey(RuntimeLibrary))
                    libraries[RuntimeLibrary] = new JsonObject
                    {
                        ["runtime"] = new JsonObject { ["Kcov.Runtime.dll"] = new JsonObject { ["assemblyVersion"] = "1.0.0.0" } },
                    };
            }
        }
        if (root["libraries"] is JsonObject all && !all.ContainsKey(RuntimeLibrary))
            all[RuntimeLibrary] = new JsonObject { ["type"] = "project", ["serviceable"] = false, ["sha512"] = "" };
    }
}
