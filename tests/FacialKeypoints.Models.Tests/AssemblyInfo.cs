// Tests share two cores with other work and count live tensors process-wide: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
