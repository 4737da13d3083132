package torch

import "gorai/backends"

// libtorch trusts a TorchScript archive's pickles (gorai checks only the archive's CRC-32s): one byte of
// data.pkl changed, with consistent CRCs, made it allocate until the kernel killed Redis. And TorchScript's
// parser recurses with a source's nesting: 20,000 nested parentheses in a script overflowed Redis' stack.
// So a client's model is first loaded, and a client's script compiled, by TrialProgram (trial/main.c;
// backends.Trial).

// TrialProgram is the trial program's file name, in the folder of the shim it loads
// (build/backends/torch/, where make builds it).
const TrialProgram = "gorai-torch-trial"

// trial is the trial program beside the shim Open opened.
var trial *backends.Trial

// What a blob given to the trial program begins with: a model's archive, or a script's source.
var modelTrial, scriptTrial = []byte{'M'}, []byte{'S'}
