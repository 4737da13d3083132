package tests

import (
	"bytes"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// TestModelBatching: runs of a model stored with BATCHSIZE and MINBATCHSIZE wait for each other
// and run as one batch, each client getting its own rows; a lone run waits MINBATCHTIMEOUT and
// then runs alone; every output equals the same rows run without batching. The four-client batch
// runs on a model with a MINBATCHTIMEOUT of 30 s, so that answers before it prove the batch
// without a speed limit that load could break.
func TestModelBatching(t *testing.T) {
	t.Parallel()
	rf := testModel(t, "random_forest.onnx")
	X, _ := npyData(t, testModel(t, "random_forest_X_all.npy")) // 150 iris rows, float32 [150,4]
	row := func(i int) []byte { return X[i*16 : (i+1)*16] }
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "1"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("plain", "ONNX", "CPU", rf)...)
	expectOK(t, c, storeArgs("batched", "ONNX", "CPU", rf, "BATCHSIZE", 8, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", 300)...)
	const batched4Timeout = 30000
	expectOK(t, c, storeArgs("batched4", "ONNX", "CPU", rf, "BATCHSIZE", 8, "MINBATCHSIZE", 4, "MINBATCHTIMEOUT", batched4Timeout)...)

	// The reference: rows 0..3 one at a time, unbatched (rows 50 and 100 are other species).
	rows := []int{0, 50, 100, 149}
	want := map[int][]byte{}
	for _, r := range rows {
		expectOK(t, c, "AI.TENSORSET", "in", "FLOAT", 1, 4, "BLOB", row(r))
		expectOK(t, c, execArgs("plain", []string{"in"}, []string{"out"})...)
		want[r] = do(t, c, "AI.TENSORGET", "out", "BLOB").Str
	}

	// A lone run waits for MINBATCHSIZE until MINBATCHTIMEOUT, then runs alone.
	expectOK(t, c, "AI.TENSORSET", "lone", "FLOAT", 1, 4, "BLOB", row(0))
	start := time.Now()
	expectOK(t, c, execArgs("batched", []string{"lone"}, []string{"loneout"})...)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("a lone run below MINBATCHSIZE answered after %v, before MINBATCHTIMEOUT (300 ms)", waited)
	}
	expect(t, c, resp.BulkBytes(want[0]), "AI.TENSORGET", "loneout", "BLOB")

	// Four clients at once reach MINBATCHSIZE: they run together, well before the timeout.
	conns := make([]*resp.Conn, len(rows))
	for i, r := range rows {
		conns[i] = s.Conn(t)
		in := "in" + string(rune('a'+i))
		expectOK(t, conns[i], "AI.TENSORSET", in, "FLOAT", 1, 4, "BLOB", row(r))
	}
	start = time.Now()
	for i := range rows {
		in, out := "in"+string(rune('a'+i)), "out"+string(rune('a'+i))
		if err := conns[i].Send(execArgs("batched4", []string{in}, []string{out})...); err != nil {
			t.Fatal(err)
		}
		if err := conns[i].Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range rows {
		if v, err := conns[i].Receive(); err != nil || !resp.Equal(v, resp.Simple("OK")) {
			t.Fatalf("batched run %d: %v %v", i, v, err)
		}
	}
	if took := time.Since(start); took >= batched4Timeout*time.Millisecond {
		t.Errorf("four runs reaching MINBATCHSIZE took %v: they waited for the timeout", took)
	}
	for i, r := range rows {
		got := do(t, c, "AI.TENSORGET", "out"+string(rune('a'+i)), "BLOB").Str
		if !bytes.Equal(got, want[r]) {
			t.Errorf("row %d: batched output %x, unbatched %x", r, got, want[r])
		}
	}
	// The statistics count each run with its own batch size: the lone run, and the four batched ones.
	for model, n := range map[string]int64{"batched": 1, "batched4": 4} {
		inf := do(t, c, "AI.INFO", model)
		if inf.Kind != resp.Array || len(inf.Elems) != 18 || inf.Elems[13].Int != n || inf.Elems[15].Int != n {
			t.Errorf("AI.INFO %s: %v (want samples %d, calls %d)", model, inf, n, n)
		}
	}
}
