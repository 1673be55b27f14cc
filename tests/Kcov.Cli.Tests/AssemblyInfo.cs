// `kcov run` tests look at /dev/shm and start child processes: one test at a time keeps them deterministic.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
