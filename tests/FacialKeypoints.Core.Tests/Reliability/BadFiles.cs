using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using SkiaSharp;

namespace FacialKeypoints.Core.Tests.Reliability;

/// <summary>Builds the image files of the bad-input catalogue byte by byte: nothing third party, nothing on disk.</summary>
internal static class BadFiles
{
    /// <summary>A noisy RGB picture encoded by Skia (PNG, JPEG, WebP), so truncations land in real entropy-coded data.</summary>
    public static byte[] Encode(SKEncodedImageFormat format, int width = 64, int height = 48, int quality = 90, int seed = 1)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 4), (byte)random.Next(256), (byte)(y * 5)));
            }
        }

        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>A PNG written chunk by chunk: any bit depth and colour type, optional palette, rows given raw (no filter).</summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, Func<int, byte[]> row, byte[]? palette = null, int maxRows = 1 << 16)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        Chunk(output, "IHDR", ihdr);
        if (palette is not null)
        {
            Chunk(output, "PLTE", palette);
        }

        using (var raw = new MemoryStream())
        {
            using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            {
                for (int y = 0; y < Math.Min(height, maxRows); y++)
                {
                    zlib.WriteByte(0);
                    zlib.Write(row(y));
                }
            }

            Chunk(output, "IDAT", raw.ToArray());
        }

        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>
    /// A baseline JPEG of one 8x8 block per component in which every block is flat (DC only): 1, 3 or 4 components;
    /// four are CMYK with an Adobe APP14 marker (stored inverted, as Photoshop writes them). The declared size may be
    /// larger than the data (a decompression bomb's header).
    /// </summary>
    public static byte[] FlatJpeg(byte[] levels, int width = 8, int height = 8)
    {
        using var o = new MemoryStream();
        o.Write([0xFF, 0xD8]);
        if (levels.Length == 4)
        {
            Segment(o, 0xEE, [.. "Adobe"u8, 0x00, 0x64, 0, 0, 0, 0, 0]);
        }

        Segment(o, 0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]);
        var sof = new List<byte> { 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)levels.Length };
        for (int c = 0; c < levels.Length; c++)
        {
            sof.AddRange([(byte)(c + 1), 0x11, 0]);
        }

        Segment(o, 0xC0, [.. sof]);

        // DC table: categories 0..11, all 4-bit codes 0000..1011. AC table: EOB alone, code "0".
        Segment(o, 0xC4, [0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        Segment(o, 0xC4, [0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00]);
        var sos = new List<byte> { (byte)levels.Length };
        for (int c = 0; c < levels.Length; c++)
        {
            sos.AddRange([(byte)(c + 1), 0x00]);
        }

        sos.AddRange([0, 63, 0]);
        Segment(o, 0xDA, [.. sos]);

        // Every MCU carries one block per component; the DC difference is the level once, then 0.
        var bits = new BitWriter();
        int blocks = ((width + 7) / 8) * ((height + 7) / 8);
        for (int b = 0; b < Math.Min(blocks, 4096); b++)
        {
            foreach (byte level in levels)
            {
                int dc = b == 0 ? 8 * (level - 128) : 0;
                int category = dc == 0 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)Math.Abs(dc));
                bits.Write(category, 4);
                if (category > 0)
                {
                    bits.Write(dc > 0 ? dc : dc + (1 << category) - 1, category);
                }

                bits.Write(0, 1);
            }
        }

        o.Write(bits.Finish());
        o.Write([0xFF, 0xD9]);
        return o.ToArray();
    }

    /// <summary>The JPEG with an EXIF APP1 segment carrying <paramref name="orientation"/> (1-8) right after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] exif = [.. "Exif\0\0"u8, .. "II*\0"u8, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0];
        using var o = new MemoryStream();
        o.Write(jpeg.AsSpan(0, 2));
        Segment(o, 0xE1, exif);
        o.Write(jpeg.AsSpan(2));
        return o.ToArray();
    }

    /// <summary>A 1x1 GIF89a with two frames (white, then black) looping forever.</summary>
    public static byte[] AnimatedGif()
    {
        byte[] header = [.. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 255, 255, 255, 0, 0, 0];
        byte[] loop = [0x21, 0xFF, 11, .. "NETSCAPE2.0"u8, 3, 1, 0, 0, 0];
        byte[] Frame(byte index) => [0x21, 0xF9, 4, 0, 10, 0, 0, 0, 0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, (byte)(index == 0 ? 0x44 : 0x4C), 1, 0];
        return [.. header, .. loop, .. Frame(0), .. Frame(1), 0x3B];
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        output.Write(word);
    }

    /// <summary>The CRC-32 that PNG chunks carry (over the chunk type and data).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }

    private static void Segment(Stream output, byte marker, byte[] payload)
    {
        output.Write([0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        output.Write(payload);
    }

    private sealed class BitWriter
    {
        private readonly List<byte> bytes = [];
        private int current;
        private int used;

        public void Write(int value, int count)
        {
            for (int i = count - 1; i >= 0; i--)
            {
                current = (current << 1) | ((value >> i) & 1);
                if (++used == 8)
                {
                    Flush();
                }
            }
        }

        public byte[] Finish()
        {
            while (used != 0)
            {
                Write(1, 1);
            }

            return [.. bytes];
        }

        private void Flush()
        {
            bytes.Add((byte)current);
            if (current == 0xFF)
            {
                bytes.Add(0);
            }

            current = 0;
            used = 0;
        }
    }
}
