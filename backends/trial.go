package backends

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A runtime that a damaged blob can crash, or make allocate until the kernel kills the process (Redis with
// it), is handed a client's blob first in a process of its own: the backend's trial program, beside its
// library, started when the backend opens its library, loads the library once and then tries each blob
// in a child it forks (trial.h), under a cap on the child's memory. The model is refused when the child
// is killed by a signal, outlives Timeout, or says the runtime refused the blob; otherwise the backend
// loads it in Redis. A fork and a load cost a few milliseconds, against a model stored once. What Redis
// loads itself is not tried (ModelOptions.Trusted).

// Trial is a backend's trial program and the library it loads.
type Trial struct {
	Backend string // the backend's name, for messages
	// Program is the trial program's path; "": blobs are not tried (the library was opened from a
	// folder without the program, or by a bare name that dlopen looks up).
	Program, Library string
	Timeout          time.Duration // how long a trial may take

	mu     sync.Mutex // one trial at a time
	server *trialServer
}

// trialServer is the running trial program, started by Start or the first Try.
type trialServer struct {
	cmd     *exec.Cmd
	blobs   io.WriteCloser // its standard input
	answers *os.File       // its standard output, read with a deadline
}

// Trial programs' answers (trial.h): the child's exit status, or 128 + the signal that killed it.
const (
	trialTaken   = 0
	trialRefused = 1
	trialSignal  = 128
)

// FindTrial is the trial program named program in the folder of the library at libPath, if it is there.
func FindTrial(backend, program, libPath string) *Trial {
	tr := &Trial{Backend: backend, Timeout: time.Minute} // far more than a model's load and first run
	if !strings.Contains(libPath, "/") {
		return tr
	}
	path := filepath.Join(filepath.Dir(libPath), program)
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
		tr.Program, tr.Library = path, libPath
	}
	return tr
}

// Start starts the trial program and waits until it has opened its library, so that the first model a
// client sends does not wait for it (libtorch takes about 250 ms to load, more on a busy machine: a reply
// slower than SmartRedis' 250 ms socket timeout makes it send the command again). The backends start
// theirs as they open their library: with the preload, on its thread, which says the backend is open
// once this returns.
func (tr *Trial) Start() {
	if tr == nil || tr.Program == "" {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.running() // a failure is Try's to report
}

// running is the trial program, started if it is not running; call it with mu held.
func (tr *Trial) running() (*trialServer, error) {
	if tr.server == nil {
		s, err := startTrialServer(tr.Program, tr.Library, time.Now().Add(tr.Timeout))
		if err != nil {
			return nil, err
		}
		tr.server = s
	}
	return tr.server, nil
}

// Try gives the trial program one blob, parts one after another; what names it in messages ("model"). It
// returns the runtime's refusal in the runtime's words (the same loader's as in Redis), an error for a
// blob that crashed or hung the child, ErrNotWanted when wanted (nil: always) was done before its turn
// came or during its trial, and nil otherwise (no program included).
func (tr *Trial) Try(wanted context.Context, what string, parts ...[]byte) error {
	if tr == nil || tr.Program == "" {
		return nil
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if wanted != nil && wanted.Err() != nil {
		return ErrNotWanted
	}
	s, err := tr.running()
	if err != nil {
		return fmt.Errorf("ERR %s %s could not be tried in a process of its own: %v", tr.Backend, what, err)
	}
	status, msg, err := s.tryWhileWanted(wanted, parts, time.Now().Add(tr.Timeout))
	if err != nil {
		tr.server.stop() // a hung child, a program that died or was told to end: the next trial starts another
		tr.server = nil
		if wanted != nil && wanted.Err() != nil {
			return ErrNotWanted
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("ERR %s %s did not load within %v when tried in a process of its own", tr.Backend, what, tr.Timeout)
		}
		return fmt.Errorf("ERR %s %s could not be tried in a process of its own: %v", tr.Backend, what, err)
	}
	switch {
	case status == trialTaken:
		return nil
	case status == trialRefused && msg != "":
		return errors.New(msg)
	case status > trialSignal:
		return fmt.Errorf("ERR %s %s crashed the runtime (%v) when tried in a process of its own",
			tr.Backend, what, syscall.Signal(status-trialSignal))
	}
	return fmt.Errorf("ERR %s %s could not be tried in a process of its own: status %d: %s", tr.Backend, what, status, msg)
}

// Close stops the trial program, if it runs.
func (tr *Trial) Close() {
	if tr == nil {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.server != nil {
		tr.server.stop()
		tr.server = nil
	}
}

// startTrialServer starts the program and waits, until deadline, for its first answer: its library is open.
func startTrialServer(program, library string, deadline time.Time) (*trialServer, error) {
	cmd := exec.Command(program, library)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // stop kills its children with it
	blobs, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	answers, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		answers.Close()
		return nil, err
	}
	s := &trialServer{cmd: cmd, blobs: blobs, answers: answers}
	if status, _, err := s.answer(deadline); err != nil || status != trialTaken {
		s.stop()
		if err == nil {
			err = fmt.Errorf("it answered %d as it started", status)
		}
		return nil, err
	}
	return s, nil
}

// tryWhileWanted is try, ended when wanted is done (nil: never): the program and its child are killed, and
// the trial fails. A store whose client has gone no longer holds the program (one trial at a time) for as
// long as the runtime takes to load its model, up to Timeout.
func (s *trialServer) tryWhileWanted(wanted context.Context, parts [][]byte, deadline time.Time) (status uint32, msg string, err error) {
	if wanted == nil {
		return s.try(parts, deadline)
	}
	ended := make(chan struct{})
	stopWatching := context.AfterFunc(wanted, func() {
		s.kill()
		close(ended)
	})
	status, msg, err = s.try(parts, deadline)
	if !stopWatching() {
		<-ended // killed, whatever it answered
		return 0, "", ErrNotWanted
	}
	return status, msg, err
}

// try sends the blob made of parts and reads the answer, until deadline.
func (s *trialServer) try(parts [][]byte, deadline time.Time) (status uint32, msg string, err error) {
	var n uint64
	for _, p := range parts {
		n += uint64(len(p))
	}
	if _, err := s.blobs.Write(binary.LittleEndian.AppendUint64(nil, n)); err != nil {
		return 0, "", err
	}
	for _, p := range parts {
		if _, err := s.blobs.Write(p); err != nil {
			return 0, "", err
		}
	}
	return s.answer(deadline)
}

// answer reads the program's next answer, until deadline.
func (s *trialServer) answer(deadline time.Time) (status uint32, msg string, err error) {
	if err := s.answers.SetReadDeadline(deadline); err != nil {
		return 0, "", err
	}
	var head [8]byte
	if _, err := io.ReadFull(s.answers, head[:]); err != nil {
		return 0, "", err
	}
	text := make([]byte, binary.LittleEndian.Uint32(head[4:]))
	if _, err := io.ReadFull(s.answers, text); err != nil {
		return 0, "", err
	}
	// The program ends what it prints with a newline; the runtime's words are kept as they are (redisai-py
	// compares libtorch's compile errors, trailing space included).
	return binary.LittleEndian.Uint32(head[:4]), strings.TrimSuffix(string(text), "\n"), nil
}

// kill kills the program and its children (its process group).
func (s *trialServer) kill() { syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) }

func (s *trialServer) stop() {
	s.kill()
	s.blobs.Close()
	s.answers.Close()
	s.cmd.Wait()
}
