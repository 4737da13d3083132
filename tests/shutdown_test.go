package tests

import (
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
)

// TestShutdownWhileRunning: SHUTDOWN while TORCH and ONNX runs and a TORCH store are in flight
// exits cleanly (status 0, no crash report): the module holds the exit until its workers and builds
// are out of the backends, whose libraries are torn down at exit.
func TestShutdownWhileRunning(t *testing.T) {
	t.Parallel()
	cnn := testModel(t, "cnn.pt")
	mnist := redisaiFixture(t, "mnist.onnx")
	for trial := 0; trial < 4; trial++ {
		s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "2"}})
		c := s.Conn(t)
		expectOK(t, c, storeArgs("cnn", "TORCH", "CPU", cnn)...)
		expectOK(t, c, storeArgs("mnist", "ONNX", "CPU", mnist)...)
		expectOK(t, c, "AI.TENSORSET", "big", "FLOAT", 200, 1, 28, 28)
		expectOK(t, c, "AI.TENSORSET", "img", "FLOAT", 1, 1, 28, 28)
		for i := 0; i < 6; i++ {
			busy := s.Conn(t)
			cmd := execArgs("cnn", []string{"big"}, []string{"out"})
			if i%2 == 1 {
				cmd = execArgs("mnist", []string{"img"}, []string{"out"})
			}
			for j := 0; j < 20; j++ {
				if err := busy.Send(cmd...); err != nil {
					t.Fatal(err)
				}
			}
			if i == 0 {
				if err := busy.Send(storeArgs("cnn2", "TORCH", "CPU", cnn)...); err != nil {
					t.Fatal(err)
				}
			}
			if err := busy.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Duration(50+100*trial) * time.Millisecond)
		c.Send("SHUTDOWN", "NOSAVE")
		c.Flush()
		deadline := time.Now().Add(30 * time.Second)
		for s.ExitCode() == -1 && s.Running() {
			if time.Now().After(deadline) {
				t.Fatalf("trial %d: the server did not exit within 30 s of SHUTDOWN:\n%s", trial, s.LogTail(20))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if code, log := s.ExitCode(), s.Log(); code != 0 || strings.Contains(log, "crashed") {
			t.Fatalf("trial %d: exit status %d after SHUTDOWN with runs in flight:\n%s", trial, code, s.LogTail(30))
		}
	}
}

// TestShutdownWhileScriptCalls: SHUTDOWN while a script is inside redis.execute exits without
// waiting for it: the script waits for Redis' lock, which the main thread holds through the exit, so
// the exit waited out its 10 s grace for a run that could not go on ("still under way" in the log).
func TestShutdownWhileScriptCalls(t *testing.T) {
	t.Parallel()
	const loop = "def loop(tensors: List[Tensor], keys: List[str], args: List[str]):\n" +
		"    for i in range(int(args[0])):\n        redis.execute(\"INCR\", keys[0])\n    return tensors[0]\n"
	s := redistest.Start(t, redistest.Options{})
	c := s.Conn(t)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"loop"}, loop)...)
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 1)
	busy := s.Conn(t)
	if err := busy.Send("AI.SCRIPTEXECUTE", "s", "loop", "KEYS", 1, "n", "INPUTS", 1, "a", "ARGS", 1, 100_000_000, "OUTPUTS", 1, "o"); err != nil {
		t.Fatal(err)
	}
	busy.Flush()
	waitFor(t, 30*time.Second, "the script's calls to start", func() (bool, string) {
		v := do(t, c, "GET", "n")
		return len(v.Str) > 0, v.Text()
	})
	c.Send("SHUTDOWN", "NOSAVE")
	c.Flush()
	deadline := time.Now().Add(30 * time.Second)
	for s.ExitCode() == -1 && s.Running() {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not exit within 30 s of SHUTDOWN:\n%s", s.LogTail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, log := s.ExitCode(), s.Log(); code != 0 || strings.Contains(log, "crashed") || strings.Contains(log, "still under way") {
		t.Fatalf("exit status %d after SHUTDOWN with a script inside redis.execute:\n%s", code, s.LogTail(30))
	}
}
