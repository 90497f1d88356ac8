namespace FacialKeypoints.Models.Checkpoints;

/// <summary>The floating-point type a checkpoint stores weights in. Loading always gives float32 weights.</summary>
public enum CheckpointPrecision
{
    /// <summary>32-bit floats: exact.</summary>
    Float32 = 0,

    /// <summary>16-bit IEEE floats: half the size, about three significant digits.</summary>
    Float16 = 1,
}
