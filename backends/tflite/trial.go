package tflite

import "gorai/backends"

// LiteRT does not verify a flatbuffer fully: a .tflite file with a few bytes changed can make it read out of
// bounds while it compiles the model, or allocate gigabytes when it runs. So a client's model is first
// loaded and run once on zeros by TrialProgram (trial/main.c; backends.Trial).

// TrialProgram is the trial program's file name, in the folder of the LiteRT library it loads
// (build/backends/tflite/, where make builds it).
const TrialProgram = "gorai-tflite-trial"

// trial is the trial program beside the library Open opened.
var trial *backends.Trial
