using System.Buffers.Binary;
using System.Text;

namespace FacialKeypoints.Data.Runtime;

/// <summary>
/// Reads and edits the symbol-version requirements (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF
/// shared library. Only what the libstdc++ work-around needs: list the requirements and mark one weak.
/// </summary>
internal static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    /// <summary>One entry of a version-requirement table: a version a library needs from another.</summary>
    internal readonly record struct Requirement(string File, string Version, ushort Flags, int FlagsOffset)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Lists every version requirement in <paramref name="elf"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a 64-bit little-endian ELF file, or the table is malformed.</exception>
    public static IReadOnlyList<Requirement> Read(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("Not an ELF file.");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");
        }

        ulong sectionOffset = BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int sectionSize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3A..]);
        int sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3C..]);
        var result = new List<Requirement>();
        for (int i = 0; i < sectionCount; i++)
        {
            var header = Slice(elf, sectionOffset + (ulong)(i * sectionSize), 64);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtGnuVerneed)
            {
                continue;
            }

            ulong tableOffset = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);
            int stringSection = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[40..]);
            int entryCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[44..]);
            var stringHeader = Slice(elf, sectionOffset + (ulong)(stringSection * sectionSize), 64);
            ulong stringsOffset = BinaryPrimitives.ReadUInt64LittleEndian(stringHeader[24..]);

            ulong entry = tableOffset;
            for (int n = 0; n < entryCount; n++)
            {
                var verneed = Slice(elf, entry, 16);
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(verneed[2..]);
                string file = ReadString(elf, stringsOffset + BinaryPrimitives.ReadUInt32LittleEndian(verneed[4..]));
                ulong aux = entry + BinaryPrimitives.ReadUInt32LittleEndian(verneed[8..]);
                for (int a = 0; a < auxCount; a++)
                {
                    var vernaux = Slice(elf, aux, 16);
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(vernaux[4..]);
                    string version = ReadString(elf, stringsOffset + BinaryPrimitives.ReadUInt32LittleEndian(vernaux[8..]));
                    result.Add(new Requirement(file, version, flags, checked((int)aux + 4)));
                    aux += BinaryPrimitives.ReadUInt32LittleEndian(vernaux[12..]);
                }

                entry += BinaryPrimitives.ReadUInt32LittleEndian(verneed[12..]);
            }
        }

        return result;
    }

    /// <summary>
    /// Marks the requirement on <paramref name="version"/> weak, in place. Returns false when the file has no
    /// such requirement or it is weak already.
    /// </summary>
    public static bool MarkWeak(Span<byte> elf, string version)
    {
        bool changed = false;
        foreach (var requirement in Read(elf))
        {
            if (requirement.Version == version && !requirement.IsWeak)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(elf[requirement.FlagsOffset..], (ushort)(requirement.Flags | VerFlagWeak));
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>Whether the ELF bytes define (export) the given symbol version, for example <c>GLIBCXX_3.4.32</c>.</summary>
    public static bool ContainsVersionString(ReadOnlySpan<byte> elf, string version)
    {
        // A version definition's name sits in .dynstr as a NUL-terminated string; a byte search is enough here.
        Span<byte> needle = stackalloc byte[version.Length + 2];
        needle[0] = 0;
        Encoding.ASCII.GetBytes(version, needle[1..]);
        needle[^1] = 0;
        return elf.IndexOf(needle) >= 0;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> elf, ulong offset, int length)
    {
        if (offset + (ulong)length > (ulong)elf.Length)
        {
            throw new InvalidDataException($"ELF structure at offset {offset} runs past the end of the file.");
        }

        return elf.Slice((int)offset, length);
    }

    private static string ReadString(ReadOnlySpan<byte> elf, ulong offset)
    {
        if (offset >= (ulong)elf.Length)
        {
            throw new InvalidDataException($"ELF string at offset {offset} lies outside the file.");
        }

        var tail = elf[(int)offset..];
        int end = tail.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? tail : tail[..end]);
    }
}
