package tests

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// TestModelClientGoneWhileQueued: a run whose client disconnected while it waited in the queue is
// skipped (AI.INFO does not count it) and writes nothing.
func TestModelClientGoneWhileQueued(t *testing.T) {
	// Serial (no t.Parallel): 20 ms sleeps order the busy run, the queued run and its client's leaving;
	// other tests' load could let the server read them in another order.
	rf := testModel(t, "random_forest.onnx")
	X, _ := npyData(t, testModel(t, "random_forest_X_all.npy"))
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "1"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("rf", "ONNX", "CPU", rf)...)
	big := bytes.Repeat(X, 1000)
	expectOK(t, c, "AI.TENSORSET", "big", "FLOAT", 150*1000, "4", "BLOB", big)

	// One slow run occupies the only worker; a second client queues behind it and leaves.
	busy := s.Conn(t)
	if err := busy.Send(execArgs("rf", []string{"big"}, []string{"busyout"})...); err != nil {
		t.Fatal(err)
	}
	if err := busy.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	gone, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	if err := gone.Send(execArgs("rf", []string{"big"}, []string{"goneout"})...); err != nil {
		t.Fatal(err)
	}
	if err := gone.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	gone.Close()

	if v, err := busy.Receive(); err != nil || !resp.Equal(v, resp.Simple("OK")) {
		t.Fatalf("busy run: %v %v", v, err)
	}
	// A third run queues behind whatever is left, so when it is done the gone one was dealt with.
	expectOK(t, c, execArgs("rf", []string{"big"}, []string{"after"})...)
	expect(t, c, resp.Int(0), "EXISTS", "goneout")
	inf := do(t, c, "AI.INFO", "rf")
	if inf.Kind != resp.Array || len(inf.Elems) != 18 || inf.Elems[15].Int != 2 || inf.Elems[17].Int != 0 {
		t.Fatalf("AI.INFO rf after a skipped run: %v (want calls 2, errors 0)", inf)
	}
}

// TestGoneRunsLeaveAWaitingBatch: runs waiting for a MINBATCHSIZE never reached (no MINBATCHTIMEOUT)
// whose clients leave are let go of, with their inputs: they were held for ever, and FLUSHALL gave back
// none of their memory (33 KB a run; unbounded).
func TestGoneRunsLeaveAWaitingBatch(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"), "BATCHSIZE", 1000000000, "MINBATCHSIZE", 1000000000)...)
	usedMemory := func() int64 {
		info, err := s.Info("MEMORY")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(info["used_memory"], 10, 64)
		return n
	}
	before := usedMemory()
	const runs, rows = 16, 65536 // 1 MiB of input each
	for i := range runs {
		expectOK(t, c, "AI.TENSORSET", fmt.Sprint("in", i), "FLOAT", rows, 4, "BLOB", make([]byte, rows*16))
		gone, err := s.Dial()
		if err != nil {
			t.Fatal(err)
		}
		if err := gone.Send(execArgs("m", []string{fmt.Sprint("in", i)}, []string{"out"})...); err != nil || gone.Flush() != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "the run to be blocked", func() (bool, string) {
			return blockedOn(t, c, "ai.modelexecute"), ""
		})
		gone.Close()
	}
	expectOK(t, c, "FLUSHALL")
	waitFor(t, 10*time.Second, "the gone runs' inputs to be freed", func() (bool, string) {
		used := usedMemory()
		return used < before+4<<20, fmt.Sprintf("used_memory %d, %d before the runs", used, before)
	})
	expectPing(t, c)
}
