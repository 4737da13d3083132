package torch

import "gorai/backends"

// libtorch trusts a TorchScript archive's pickles (gorai checks only the archive's CRC-32s): one byte of
// data.pkl changed, with consistent CRCs, made it allocate until the kernel killed Redis. So a client's
// model is first loaded by TrialProgram (trial/main.c; backends.Trial).

// TrialProgram is the trial program's file name, in the folder of the shim it loads
// (build/backends/torch/, where make builds it).
const TrialProgram = "gorai-torch-trial"

// trial is the trial program beside the shim Open opened.
var trial *backends.Trial
