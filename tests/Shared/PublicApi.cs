using System.Reflection;
using System.Text;

namespace FacialKeypoints.Tests;

/// <summary>
/// The public API of an assembly as sorted text, compared with <c>src/{Assembly}/PublicAPI.txt</c> so that every
/// change of the public surface shows in review. Set <c>FKP_UPDATE_API=1</c> to rewrite the file after an
/// intended change.
/// </summary>
internal static class PublicApi
{
    public static void Verify(Assembly assembly)
    {
        string name = assembly.GetName().Name!;
        string file = Path.Combine(RepositoryRoot(), "src", name, "PublicAPI.txt");
        string actual = Describe(assembly);
        if (Environment.GetEnvironmentVariable("FKP_UPDATE_API") == "1")
        {
            File.WriteAllText(file, actual);
            return;
        }

        string expected = File.Exists(file) ? File.ReadAllText(file).ReplaceLineEndings("\n") : string.Empty;
        if (expected == actual)
        {
            return;
        }

        var before = expected.Split('\n').ToHashSet(StringComparer.Ordinal);
        var after = actual.Split('\n').ToHashSet(StringComparer.Ordinal);
        var report = new StringBuilder($"The public API of {name} differs from {file}. If the change is intended, run the tests with FKP_UPDATE_API=1 and commit the file.\n");
        foreach (string line in after.Except(before).Order(StringComparer.Ordinal))
        {
            report.Append("+ ").Append(line).Append('\n');
        }

        foreach (string line in before.Except(after).Order(StringComparer.Ordinal))
        {
            report.Append("- ").Append(line).Append('\n');
        }

        throw new Xunit.Sdk.XunitException(report.ToString());
    }

    public static string Describe(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (var type in assembly.GetExportedTypes())
        {
            string typeName = Name(type);
            lines.Add($"{typeName}: {Kind(type)}{Bases(type)}");
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var member in type.GetMembers(flags).Where(m => !m.Name.Contains('<', StringComparison.Ordinal)))
            {
                string? text = member switch
                {
                    ConstructorInfo c when !type.IsSubclassOf(typeof(Delegate)) => $"ctor({Parameters(c)})",
                    MethodInfo m when !m.IsSpecialName && !type.IsSubclassOf(typeof(Delegate)) => $"{(m.IsStatic ? "static " : string.Empty)}{(m.IsAbstract && !type.IsInterface ? "abstract " : string.Empty)}{Name(m.ReturnType)} {m.Name}{Generic(m)}({Parameters(m)})",
                    PropertyInfo p => $"{(p.GetMethod?.IsStatic == true ? "static " : string.Empty)}{Name(p.PropertyType)} {p.Name} {{{(p.GetMethod?.IsPublic == true ? " get;" : string.Empty)}{(p.SetMethod?.IsPublic == true ? (p.SetMethod.ReturnParameter.GetRequiredCustomModifiers().Any(t => t.Name == "IsExternalInit") ? " init;" : " set;") : string.Empty)} }}",
                    FieldInfo f when !type.IsEnum || f.IsStatic => f.IsLiteral ? $"const {Name(f.FieldType)} {f.Name} = {f.GetRawConstantValue()}" : $"{(f.IsStatic ? "static " : string.Empty)}{(f.IsInitOnly ? "readonly " : string.Empty)}{Name(f.FieldType)} {f.Name}",
                    EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
                    _ => null,
                };
                if (text is not null)
                {
                    lines.Add($"{typeName}: {text}");
                }
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join("\n", lines) + "\n";
    }

    private static string Kind(Type t) =>
        t.IsInterface ? "interface" : t.IsEnum ? "enum" : t.IsValueType ? "struct" : t.IsSubclassOf(typeof(Delegate)) ? "delegate"
        : t.IsAbstract && t.IsSealed ? "static class" : t.IsAbstract ? "abstract class" : t.IsSealed ? "sealed class" : "class";

    private static string Bases(Type t)
    {
        var bases = new List<string>();
        if (t.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
        {
            bases.Add(Name(b));
        }

        bases.AddRange(t.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return bases.Count == 0 ? string.Empty : " : " + string.Join(", ", bases);
    }

    private static string Generic(MethodInfo m) => m.IsGenericMethodDefinition ? $"<{string.Join(", ", m.GetGenericArguments().Select(a => a.Name))}>" : string.Empty;

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p =>
        $"{(p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : string.Empty)}{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? $" = {p.DefaultValue ?? "null"}" : string.Empty)}"));

    private static string Name(Type t)
    {
        if (t.IsByRef)
        {
            return Name(t.GetElementType()!);
        }

        if (t.IsArray)
        {
            return Name(t.GetElementType()!) + "[]";
        }

        if (Nullable.GetUnderlyingType(t) is { } inner)
        {
            return Name(inner) + "?";
        }

        if (t.IsGenericParameter)
        {
            return t.Name;
        }

        string name = (t.IsNested ? Name(t.DeclaringType!) + "." : t.Namespace + ".") + t.Name.Split('`')[0];
        return t.IsGenericType ? $"{name}<{string.Join(", ", t.GetGenericArguments().Select(Name))}>" : name;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FacialKeypoints.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("FacialKeypoints.sln was not found above the test's folder.");
    }
}
