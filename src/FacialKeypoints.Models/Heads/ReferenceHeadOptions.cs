using System.ComponentModel.DataAnnotations;

namespace FacialKeypoints.Models.Heads;

/// <summary>Hyperparameters of <see cref="ReferenceHead"/>.</summary>
public sealed class ReferenceHeadOptions
{
    /// <summary>Width of the hidden layer. Default 512.</summary>
    [Range(1, 65536)]
    public int HiddenFeatures { get; set; } = 512;

    /// <summary>Dropout probability after the hidden layer, in [0, 1). Default 0.3.</summary>
    [Range(0.0, 0.99)]
    public double Dropout { get; set; } = 0.3;

    /// <summary>Checks the values against their <see cref="RangeAttribute"/>s.</summary>
    /// <exception cref="ValidationException">A value is out of range.</exception>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
}
