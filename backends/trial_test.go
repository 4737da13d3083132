package backends

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The test binary is also a stand-in trial program: with GORAI_TRIAL_STAND_IN set it speaks trial.h's
// protocol, answering every trial as the variable says.
func TestMain(m *testing.M) {
	if mode := os.Getenv("GORAI_TRIAL_STAND_IN"); mode != "" {
		standIn(mode)
		return
	}
	os.Exit(m.Run())
}

func standIn(mode string) {
	answer := func(status uint32, msg string) {
		os.Stdout.Write(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, status), uint32(len(msg))))
		os.Stdout.WriteString(msg)
	}
	if mode == "slow to open" {
		time.Sleep(openTime)
	}
	answer(0, "") // ready: the library is open
	for {
		var n uint64
		if binary.Read(os.Stdin, binary.LittleEndian, &n) != nil {
			return
		}
		blob := make([]byte, n)
		if _, err := io.ReadFull(os.Stdin, blob); err != nil {
			return
		}
		switch mode {
		case "taken", "slow to open":
			if string(blob) != "the blob" || filepath.Base(os.Args[1]) != "lib.so" {
				answer(2, "not the blob or not the library")
			} else {
				answer(0, "")
			}
		case "refused":
			answer(1, "Failed to load model from buffer\n")
		case "refused, spaced":
			answer(1, " <--- HERE \n")
		case "crashed":
			answer(128+11, "")
		case "other status":
			answer(7, "half")
		case "hung":
			time.Sleep(time.Hour)
		case "dies":
			os.Exit(3)
		}
	}
}

func TestTrialAnswers(t *testing.T) {
	tr := &Trial{Backend: "X", Program: os.Args[0], Library: "/backends/x/lib.so", Timeout: 10 * time.Second}
	defer tr.Close()
	for _, c := range []struct{ mode, want string }{
		{"taken", ""},
		{"refused", "Failed to load model from buffer"},
		{"refused, spaced", " <--- HERE "}, // the runtime's words as they are (redisai-py compares libtorch's)
		{"crashed", "ERR X model crashed the runtime (segmentation fault) when tried in a process of its own"},
		{"other status", "ERR X model could not be tried in a process of its own: status 7: half"},
		{"hung", "ERR X model did not load within 100ms when tried in a process of its own"},
		{"dies", "ERR X model could not be tried in a process of its own: EOF"},
		{"taken", ""}, // a program that hung or died is replaced
	} {
		t.Setenv("GORAI_TRIAL_STAND_IN", c.mode)
		tr.Close() // the next trial starts a program with the mode
		tr.Timeout = 10 * time.Second
		if c.mode == "hung" {
			tr.Timeout = 100 * time.Millisecond
		}
		got := ""
		if err := tr.Try(context.Background(), "model", []byte("the "), []byte("blob")); err != nil { // one blob, in parts
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%s: Try: %q, want %q", c.mode, got, c.want)
		}
	}
	// One program serves one trial after another.
	t.Setenv("GORAI_TRIAL_STAND_IN", "refused")
	tr.Close()
	for i := range 3 {
		if err := tr.Try(context.Background(), "model", []byte("x")); err == nil || err.Error() != "Failed to load model from buffer" {
			t.Errorf("trial %d: %v", i, err)
		}
	}
	if err := (&Trial{Backend: "X"}).Try(context.Background(), "model", []byte("x")); err != nil {
		t.Errorf("without a program: %v, want no trial", err)
	}
	missing := &Trial{Backend: "X", Program: "/no/such/trial", Library: "/no/lib.so", Timeout: time.Second}
	if err := missing.Try(context.Background(), "model", []byte("x")); err == nil || !strings.Contains(err.Error(), "could not be tried") {
		t.Errorf("a program that does not start: %v", err)
	}
}

func TestFindTrial(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libx.so")
	if tr := FindTrial("X", "x-trial", lib); tr.Program != "" {
		t.Errorf("no program beside the library: %+v", tr)
	}
	program := filepath.Join(dir, "x-trial")
	if err := os.WriteFile(program, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if tr := FindTrial("X", "x-trial", lib); tr.Program != "" {
		t.Errorf("a program that cannot be executed: %+v", tr)
	}
	if err := os.Chmod(program, 0o755); err != nil {
		t.Fatal(err)
	}
	if tr := FindTrial("X", "x-trial", lib); tr.Program != program || tr.Library != lib || tr.Backend != "X" || tr.Timeout != time.Minute {
		t.Errorf("FindTrial: %+v", tr)
	}
	if tr := FindTrial("X", "x-trial", "libx.so"); tr.Program != "" {
		t.Errorf("a bare library name, which dlopen looks up: %+v", tr)
	}
}

// openTime is how long the "slow to open" stand-in takes to open its library.
const openTime = 300 * time.Millisecond

// Start returns once the program has opened its library, so that the first trial does not wait for it
// (the preload says a backend is open when it returns: the first store still waited for libtorch's
// opening in the program, past SmartRedis' timeout on a busy machine).
func TestTrialStart(t *testing.T) {
	t.Setenv("GORAI_TRIAL_STAND_IN", "slow to open")
	tr := &Trial{Backend: "X", Program: os.Args[0], Library: "/backends/x/lib.so", Timeout: 10 * time.Second}
	defer tr.Close()
	start := time.Now()
	tr.Start()
	if took := time.Since(start); took < openTime {
		t.Fatalf("Start returned after %v, before the program opened its library (%v)", took, openTime)
	}
	tr.mu.Lock()
	started := tr.server != nil
	tr.mu.Unlock()
	if !started {
		t.Fatal("Start did not start the program")
	}
	if err := tr.Try(context.Background(), "model", []byte("the blob")); err != nil {
		t.Error(err)
	}
}

// A store its client abandoned while it waited for its turn is not tried (a trial takes the program
// for as long as the runtime loads the model): the next client's store is not held up behind it.
func TestTrialNotWanted(t *testing.T) {
	t.Setenv("GORAI_TRIAL_STAND_IN", "taken")
	tr := &Trial{Backend: "X", Program: os.Args[0], Library: "/backends/x/lib.so", Timeout: 10 * time.Second}
	defer tr.Close()
	wanted, leave := context.WithCancel(context.Background())
	tr.mu.Lock() // another trial's turn
	tried := make(chan error)
	go func() { tried <- tr.Try(wanted, "model", []byte("the blob")) }()
	leave()
	tr.mu.Unlock()
	if err := <-tried; !errors.Is(err, ErrNotWanted) {
		t.Errorf("an abandoned store's trial: %v, want ErrNotWanted", err)
	}
	if tr.server != nil {
		t.Errorf("the program was started for a trial nobody waits for")
	}
	if err := tr.Try(context.Background(), "model", []byte("the blob")); err != nil {
		t.Errorf("the next store's trial: %v", err)
	}
}

// A trial under way whose store's client leaves ends at once (the program's input is closed, on which it
// kills the child and ends): it held the program, and every other store of the backend behind it, until
// the runtime gave up on the model or Timeout passed (a minute).
func TestTrialEndsWhenNotWanted(t *testing.T) {
	t.Setenv("GORAI_TRIAL_STAND_IN", "hung")
	tr := &Trial{Backend: "X", Program: os.Args[0], Library: "/backends/x/lib.so", Timeout: 30 * time.Second}
	defer tr.Close()
	tr.Start()
	wanted, leave := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, leave)
	if err := tr.Try(wanted, "model", []byte("the blob")); !errors.Is(err, ErrNotWanted) {
		t.Errorf("a trial whose client left during it: %v, want ErrNotWanted", err)
	}
	t.Setenv("GORAI_TRIAL_STAND_IN", "taken")
	if err := tr.Try(context.Background(), "model", []byte("the blob")); err != nil {
		t.Errorf("the next store's trial: %v", err)
	}
}
