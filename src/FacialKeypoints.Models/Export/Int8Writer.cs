using Onnx;
using static FacialKeypoints.Models.Export.OnnxProto;

namespace FacialKeypoints.Models.Export;

/// <summary>
/// Writes an <see cref="ExportGraph"/> with static int8 arithmetic for ONNX Runtime's CPU provider. Convolutions,
/// residual sums and the max pooling work on uint8 activations (asymmetric, from the calibrated
/// <see cref="ValueRange"/>s) and int8 weights (per output channel, symmetric, at most ±63: 7 bits, so the
/// u8 x s8 pair sums of AVX2's <c>vpmaddubsw</c> cannot saturate int16); biases are int32 at the product scale. A
/// ReLU after a convolution or sum is the clamp at the uint8 zero point of its output range (which starts at 0).
/// Global pooling and the linear layers stay float32 (about 0.1% of the work; the output keeps float precision).
/// </summary>
internal static class Int8Writer
{
    /// <summary>Weight bits, sign included.</summary>
    public const int WeightBits = 7;

    private const int WeightLimit = (1 << (WeightBits - 1)) - 1;

    public static ModelProto Build(
        ExportGraph graph, int height, int width, IReadOnlyDictionary<string, string> metadata, IReadOnlyDictionary<string, ValueRange> ranges, Int8Format format)
    {
        var writer = new Writer(graph, ranges, format);
        writer.Proto.Input.Add(FloatValue(graph.Input, 3, height, width));
        writer.Proto.Output.Add(FloatValue(graph.Output, OnnxWriter.OutputWidth(graph)));
        foreach (var node in graph.Nodes)
        {
            writer.Add(node);
        }

        return Model(writer.Proto, metadata, usesMicrosoftDomain: format == Int8Format.QOperator);
    }

    /// <summary>Per-output-channel symmetric int8 weights within ±<see cref="WeightLimit"/>, and their scales.</summary>
    internal static (sbyte[] Values, float[] Scales) QuantizeWeights(float[] weight, int outChannels)
    {
        int per = weight.Length / outChannels;
        var values = new sbyte[weight.Length];
        var scales = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            var row = weight.AsSpan(o * per, per);
            float amax = 0;
            foreach (float v in row)
            {
                amax = Math.Max(amax, Math.Abs(v));
            }

            float scale = amax > 0 ? amax / WeightLimit : 1f;
            scales[o] = scale;
            for (int k = 0; k < per; k++)
            {
                values[(o * per) + k] = (sbyte)Math.Clamp(Math.Round(row[k] / scale), -WeightLimit, WeightLimit);
            }
        }

        return (values, scales);
    }

    private sealed class Writer
    {
        private readonly IReadOnlyDictionary<string, ValueRange> ranges;
        private readonly Int8Format format;
        private readonly Dictionary<string, ValueRange> aliases = new(StringComparer.Ordinal);

        // Value name -> the uint8 tensor (QOperator) or the float tensor after Q/DQ (QDQ) that holds it.
        private readonly Dictionary<string, string> quantized = new(StringComparer.Ordinal);

        // Values available as plain float tensors, by the name of that tensor.
        private readonly Dictionary<string, string> floats = new(StringComparer.Ordinal);
        private readonly HashSet<string> parameters = new(StringComparer.Ordinal);

        public Writer(ExportGraph graph, IReadOnlyDictionary<string, ValueRange> ranges, Int8Format format)
        {
            this.ranges = ranges;
            this.format = format;
            floats[graph.Input] = graph.Input;
        }

        public GraphProto Proto { get; } = new() { Name = "facial-keypoints-int8" };

        public void Add(ExportNode node)
        {
            switch (node)
            {
                case ConvNode conv:
                    AddConv(conv);
                    break;
                case AddNode add:
                    AddSum(add);
                    break;
                case MaxPoolNode pool:
                    AddMaxPool(pool);
                    break;
                case GlobalAveragePoolNode gap:
                    Proto.Node.Add(Node("GlobalAveragePool", gap.Output, [Float(gap.Input)], [gap.Output]));
                    floats[gap.Output] = gap.Output;
                    break;
                case FlattenNode flatten:
                    Proto.Node.Add(Node("Flatten", flatten.Output, [Float(flatten.Input)], [flatten.Output], attributes: Int("axis", 1)));
                    floats[flatten.Output] = flatten.Output;
                    break;
                case GemmNode gemm:
                    string gemmOut = gemm.Relu ? gemm.Output + ".pre_relu" : gemm.Output;
                    Proto.Initializer.Add(FloatTensor(gemm.Output + ".weight", gemm.Weight, gemm.OutFeatures, gemm.InFeatures));
                    Proto.Initializer.Add(FloatTensor(gemm.Output + ".bias", gemm.Bias, gemm.OutFeatures));
                    Proto.Node.Add(OnnxWriter.Gemm(gemm.Output, Float(gemm.Input), gemm.Output + ".weight", gemm.Output + ".bias", gemmOut));
                    OnnxWriter.AddRelu(Proto, gemm.Relu, gemmOut, gemm.Output);
                    floats[gemm.Output] = gemm.Output;
                    break;
                default:
                    throw new NotSupportedException($"No int8 ONNX form for {node.GetType().Name}.");
            }
        }

        private void AddConv(ConvNode conv)
        {
            string x = Quantized(conv.Input);
            var (xScale, _) = Range(conv.Input).Uint8Parameters();
            var (w, wScales) = QuantizeWeights(conv.Weight, conv.OutChannels);
            var bias = new int[conv.OutChannels];
            var biasScales = new float[conv.OutChannels];
            for (int o = 0; o < bias.Length; o++)
            {
                biasScales[o] = xScale * wScales[o];
                bias[o] = (int)Math.Clamp(Math.Round(conv.Bias[o] / (double)biasScales[o]), int.MinValue, int.MaxValue);
            }

            string p = conv.Output;
            long[] wDims = [.. conv.WeightShape.Select(d => (long)d)];
            Proto.Initializer.Add(Int8Tensor(p + ".weight_q", w, wDims));
            Proto.Initializer.Add(FloatTensor(p + ".weight_scale", wScales, conv.OutChannels));
            Proto.Initializer.Add(Int8Tensor(p + ".weight_zero_point", new sbyte[conv.OutChannels], conv.OutChannels));
            Proto.Initializer.Add(Int32Tensor(p + ".bias_q", bias, conv.OutChannels));
            if (format == Int8Format.QOperator)
            {
                Parameters(conv.Input);
                Parameters(conv.Output);
                Proto.Node.Add(Node(
                    "QLinearConv",
                    p,
                    [x, Scale(conv.Input), ZeroPoint(conv.Input), p + ".weight_q", p + ".weight_scale", p + ".weight_zero_point", Scale(conv.Output), ZeroPoint(conv.Output), p + ".bias_q"],
                    [p + ".q"],
                    attributes: OnnxWriter.ConvAttributes(conv)));
                quantized[conv.Output] = p + ".q";
                return;
            }

            Proto.Initializer.Add(FloatTensor(p + ".bias_scale", biasScales, conv.OutChannels));
            Proto.Initializer.Add(Int32Tensor(p + ".bias_zero_point", new int[conv.OutChannels], conv.OutChannels));
            Proto.Node.Add(Node("DequantizeLinear", p + ".weight_dq", [p + ".weight_q", p + ".weight_scale", p + ".weight_zero_point"], [p + ".weight"], attributes: Int("axis", 0)));
            Proto.Node.Add(Node("DequantizeLinear", p + ".bias_dq", [p + ".bias_q", p + ".bias_scale", p + ".bias_zero_point"], [p + ".bias"], attributes: Int("axis", 0)));
            Proto.Node.Add(OnnxWriter.Conv(conv, x, p + ".weight", p + ".bias", p + ".conv"));
            QuantizeDequantize(p + ".conv", conv.Output);
        }

        private void AddSum(AddNode add)
        {
            string a = Quantized(add.A), b = Quantized(add.B);
            if (format == Int8Format.QOperator)
            {
                Parameters(add.A);
                Parameters(add.B);
                Parameters(add.Output);
                Proto.Node.Add(Node(
                    "QLinearAdd",
                    add.Output,
                    [a, Scale(add.A), ZeroPoint(add.A), b, Scale(add.B), ZeroPoint(add.B), Scale(add.Output), ZeroPoint(add.Output)],
                    [add.Output + ".q"],
                    MicrosoftDomain));
                quantized[add.Output] = add.Output + ".q";
                return;
            }

            Proto.Node.Add(Node("Add", add.Output, [a, b], [add.Output + ".sum"]));
            QuantizeDequantize(add.Output + ".sum", add.Output);
        }

        private void AddMaxPool(MaxPoolNode pool)
        {
            // The maximum of uint8 values is the uint8 of the maximum: the output keeps the input's parameters.
            aliases[pool.Output] = Range(pool.Input);
            string x = Quantized(pool.Input);
            if (format == Int8Format.QOperator)
            {
                Proto.Node.Add(OnnxWriter.MaxPool(pool, x, pool.Output + ".q"));
                quantized[pool.Output] = pool.Output + ".q";
                return;
            }

            Proto.Node.Add(OnnxWriter.MaxPool(pool, x, pool.Output + ".pool"));
            QuantizeDequantize(pool.Output + ".pool", pool.Output);
        }

        /// <summary>QDQ: quantises a float result with the value's parameters and dequantises it again.</summary>
        private void QuantizeDequantize(string source, string value)
        {
            Parameters(value);
            Proto.Node.Add(Node("QuantizeLinear", value + ".quantize", [source, Scale(value), ZeroPoint(value)], [value + ".q"]));
            Proto.Node.Add(Node("DequantizeLinear", value + ".dequantize", [value + ".q", Scale(value), ZeroPoint(value)], [value + ".dq"]));
            quantized[value] = value + ".dq";
            floats[value] = value + ".dq";
        }

        /// <summary>The tensor that holds a value in quantised form (uint8 for QOperator, the DQ output for QDQ), adding the quantisation when missing.</summary>
        private string Quantized(string value)
        {
            if (quantized.TryGetValue(value, out string? name))
            {
                return name;
            }

            if (format == Int8Format.Qdq)
            {
                QuantizeDequantize(floats[value], value);
                return quantized[value];
            }

            Parameters(value);
            Proto.Node.Add(Node("QuantizeLinear", value + ".quantize", [floats[value], Scale(value), ZeroPoint(value)], [value + ".q"]));
            quantized[value] = value + ".q";
            return quantized[value];
        }

        /// <summary>The float tensor that holds a value, adding a DequantizeLinear when it only exists as uint8.</summary>
        private string Float(string value)
        {
            if (floats.TryGetValue(value, out string? name))
            {
                return name;
            }

            Parameters(value);
            Proto.Node.Add(Node("DequantizeLinear", value + ".dequantize", [quantized[value], Scale(value), ZeroPoint(value)], [value + ".float"]));
            floats[value] = value + ".float";
            return floats[value];
        }

        private ValueRange Range(string value) =>
            aliases.TryGetValue(value, out var alias) ? alias
            : ranges.TryGetValue(value, out var range) ? range
            : throw new InvalidOperationException($"No calibrated range for '{value}'.");

        private void Parameters(string value)
        {
            if (!parameters.Add(value))
            {
                return;
            }

            var (scale, zero) = Range(value).Uint8Parameters();
            Proto.Initializer.Add(FloatTensor(Scale(value), [scale]));
            Proto.Initializer.Add(UInt8Tensor(ZeroPoint(value), [zero]));
        }

        private static string Scale(string value) => value + ".scale";

        private static string ZeroPoint(string value) => value + ".zero_point";
    }
}
