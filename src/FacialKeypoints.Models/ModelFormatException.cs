namespace FacialKeypoints.Models;

/// <summary>A model file (ONNX weights or a checkpoint) could not be read or does not fit the network.</summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public ModelFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ModelFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a file; the message starts with the file's path.</summary>
    /// <param name="filePath">The file.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The cause, if any.</param>
    public ModelFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"'{filePath}': {problem}", innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file concerned, when known.</summary>
    public string? FilePath { get; }
}
