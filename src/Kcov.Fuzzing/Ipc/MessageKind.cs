namespace Kcov.Fuzzing.Ipc;

/// <summary>What a <see cref="Message"/> says. E = executor to supervisor, S = supervisor to executor.</summary>
internal enum MessageKind : byte
{
    /// <summary>E: connected; Numbers = [slot, pid], Text = the kcov area's shared name.</summary>
    Hello = 1,
    /// <summary>
    /// S: what to do; Numbers = [mode, seed, max_len, first input (merge, reproduce) or position (cleanse),
    /// length limit, whether -runs bounds the corpus inputs], Inputs = corpus with Flags, or input files; Tokens = compared values, Hangs = inputs
    /// known to hang; Input/Text = crash to minimize and its signature, or (fuzz mode) an input to run
    /// first under the full -timeout (it hung under the short one).
    /// </summary>
    Start,
    /// <summary>E: an input joined the corpus; Input, Text = NEW or REDUCE, Detail = mutation sequence, Stats.</summary>
    NewInput,
    /// <summary>E: a managed crash caught in the executor; Input, Text = report, Detail = signature, Numbers = [artifact kind, campaign execs].</summary>
    Crash,
    /// <summary>E: periodic statistics; Text = "pulse" when the execution count reached a power of two.</summary>
    Stats,
    /// <summary>E: the initial corpus has been run.</summary>
    Inited,
    /// <summary>E: the executor stops by itself (runs used up, stop asked, or its work is done).</summary>
    Done,
    /// <summary>S: an input another executor found (-jobs), to run and keep if it adds signal here too.</summary>
    AddInput,
    /// <summary>E: merge result for one input; Numbers = [index], Features.</summary>
    MergeFeatures,
    /// <summary>E: a smaller (or cleansed) input that still crashes with the signature; Numbers = [next position] when cleansing.</summary>
    MinimizeBest,
    /// <summary>E: the hints pass of a corpus input begins; Text = its SHA-1. Its hints are never computed again.</summary>
    HintsBegin,
    /// <summary>E: values the target compared against, new in this executor (Tokens).</summary>
    Compared,
    /// <summary>S: Numbers = [hash] of a corpus input some of whose children hung: its children run under the short timeout.</summary>
    HangParent,
    /// <summary>E: reproduce mode ran an input file all its -runs times; Numbers = [index, milliseconds].</summary>
    InputDone,
    /// <summary>
    /// S: Numbers = [heartbeat]: the input the slot started with that heartbeat hangs; park the thread
    /// running it (<see cref="Executor.HangParking"/>) and go on fuzzing on a new thread.
    /// </summary>
    Park,
    /// <summary>E: the answer to Park; Numbers = [heartbeat, 1 parked / 0 not (that input is over, or the thread did not get to a block)].</summary>
    Parked,
}
