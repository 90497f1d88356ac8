namespace FacialKeypoints.Core.Tests.Reliability;

/// <summary>Seeded byte mutations of a valid file: 1 to 4 edits, each a bit flip, an inserted random byte or a deleted byte.</summary>
internal static class Mutations
{
    public static IEnumerable<(int Case, string Edits, byte[] Bytes)> Of(byte[] valid, int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var bytes = new List<byte>(valid);
            var edits = new List<string>();
            int n = 1 + random.Next(4);
            for (int e = 0; e < n; e++)
            {
                int at = random.Next(Math.Max(1, bytes.Count));
                switch (random.Next(3))
                {
                    case 0 when bytes.Count > 0:
                        int bit = random.Next(8);
                        bytes[at] ^= (byte)(1 << bit);
                        edits.Add($"flip {at}:{bit}");
                        break;
                    case 1:
                        byte value = (byte)random.Next(256);
                        bytes.Insert(Math.Min(at, bytes.Count), value);
                        edits.Add($"insert {at}={value}");
                        break;
                    default:
                        if (bytes.Count > 0)
                        {
                            bytes.RemoveAt(at);
                            edits.Add($"delete {at}");
                        }

                        break;
                }
            }

            yield return (i, string.Join(", ", edits), [.. bytes]);
        }
    }
}
