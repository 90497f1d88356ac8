using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Models.Export;

/// <summary>How <see cref="OnnxExport"/> stores the network's arithmetic.</summary>
public enum OnnxPrecision
{
    /// <summary>Float32 throughout; matches TorchSharp to about 1e-5 relative.</summary>
    Float32 = 0,

    /// <summary>
    /// Static int8: convolutions and residual sums on 8-bit values (per-channel symmetric weights kept to 7 bits,
    /// asymmetric uint8 activations calibrated on <see cref="OnnxExportOptions.CalibrationImages"/>); the pooling and
    /// the linear layers stay float32.
    /// </summary>
    Int8 = 1,
}

/// <summary>Options of <see cref="OnnxExport"/>. Immutable once passed; not shared between threads while being set.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>Float32 (the default) or static int8.</summary>
    public OnnxPrecision Precision { get; set; } = OnnxPrecision.Float32;

    /// <summary>
    /// Images that represent the inputs (for the landmark network: face crops framed like the training images),
    /// required for <see cref="OnnxPrecision.Int8"/>. Each is resized to the network's input as the predictor does
    /// (both axes stretched) and normalised with the metadata's statistics. 32 to 128 are plenty.
    /// </summary>
    public IReadOnlyList<RgbImage>? CalibrationImages { get; set; }

    /// <summary>
    /// The share of each activation's calibration values its int8 range keeps, in percent: 100 takes the minimum and
    /// maximum (the default: on the landmark test set it lost least, NME 0.0518 against 0.0516 in float32, where
    /// 99.99 gave 0.0526 and 99.9 gave 0.0647); lower values clip the rarest extremes of every activation.
    /// </summary>
    [Range(90.0, 100.0)]
    public double CalibrationPercentile { get; set; } = 100;

    /// <summary>The int8 graph form: QLinearConv operators, or float operators between QuantizeLinear/DequantizeLinear pairs.</summary>
    internal Int8Format QuantizationFormat { get; set; } = Int8Format.QOperator;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ValidationException">A value is out of range, or int8 lacks calibration images.</exception>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (!Enum.IsDefined(Precision))
        {
            throw new ValidationException($"Unknown precision {Precision}.");
        }

        if (Precision == OnnxPrecision.Int8 && (CalibrationImages is null || CalibrationImages.Count == 0))
        {
            throw new ValidationException("Int8 export needs calibration images (CalibrationImages).");
        }
    }
}

/// <summary>The two ways of writing an int8 graph that ONNX Runtime's CPU provider runs with int8 kernels.</summary>
internal enum Int8Format
{
    /// <summary>QLinearConv, QLinearAdd (contrib domain) and uint8 MaxPool, with explicit Quantize/DequantizeLinear at the edges.</summary>
    QOperator = 0,

    /// <summary>Float operators between QuantizeLinear/DequantizeLinear pairs; ONNX Runtime fuses them when it loads the model.</summary>
    Qdq = 1,
}
