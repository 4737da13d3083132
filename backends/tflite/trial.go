package tflite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LiteRT does not verify a flatbuffer fully: a .tflite file with a few bytes changed can make it read out of
// bounds while it compiles the model and kill the process, Redis with it. So a model a client sent is first
// loaded and run once in a process of its own, trial/main.c built as TrialProgram beside the library; a
// model that crashes it or hangs is refused. It costs a process start (about 7 ms for the test models).

// TrialProgram is the trial program's file name, in the folder of the LiteRT library it loads
// (build/backends/tflite/, where make builds it).
const TrialProgram = "gorai-tflite-trial"

// trial is the trial program and the library it loads, set by Open (program "": models are not tried: the
// library was opened from a folder without the program, or by a bare name), and how long a trial may take.
var trial struct {
	program, library string
	timeout          time.Duration
}

// findTrial sets trial for the library at libPath.
func findTrial(libPath string) {
	trial.program, trial.library = "", ""
	trial.timeout = time.Minute // far more than a model's load and first run
	if !strings.Contains(libPath, "/") {
		return
	}
	program := filepath.Join(filepath.Dir(libPath), TrialProgram)
	if info, err := os.Stat(program); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
		trial.program, trial.library = program, libPath
	}
}

// Trial exit statuses (trial/main.c): 1 LiteRT refused the model (its message on stdout).
const trialRefused = 1

// try loads and runs blob in the trial program. It returns LiteRT's refusal as NewModel would (the same
// loader's words), an error for a model that crashed or hung the program, and nil otherwise (the program
// missing included, or a run that failed with an error: runs of it fail in Redis the same way).
func try(blob []byte) error {
	if trial.program == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), trial.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, trial.program, trial.library)
	cmd.Stdin = bytes.NewReader(blob)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("ERR TFLITE model did not load and run within %v when tried in a process of its own", trial.timeout)
	case !errors.As(err, &exit):
		return fmt.Errorf("ERR TFLITE model could not be tried in a process of its own: %v", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("ERR TFLITE model crashed LiteRT (%v) when tried in a process of its own: the model is damaged", ws.Signal())
	}
	if msg := strings.TrimSpace(out.String()); exit.ExitCode() == trialRefused && msg != "" {
		return errors.New(msg)
	}
	return fmt.Errorf("ERR TFLITE model could not be tried in a process of its own: %v: %s", err, strings.TrimSpace(out.String()))
}
