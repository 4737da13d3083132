package commands

import (
	"errors"
	"testing"
	"time"

	"gorai/engine"
	"gorai/exec"
	"gorai/stats"
	"gorai/tensor"
)

// The replies and writes of finished runs (ReplyRun): plans parsed by the handlers, run by a real
// executor on fake backends, replied to with the fake keyspace, without a server.

// copyModel is a backend model whose output is a copy of its input, or fail.
type copyModel struct{ fail error }

func (m copyModel) Run(in []tensor.Tensor) ([]tensor.Tensor, error) {
	if m.fail != nil {
		return nil, m.fail
	}
	t, err := tensor.FromBlob(in[0].DType(), in[0].Shape(), in[0].Data())
	return []tensor.Tensor{t}, err
}
func (copyModel) InputNames() []string  { return []string{"x"} }
func (copyModel) OutputNames() []string { return []string{"y"} }
func (copyModel) Close()                {}

// runFixture is a keyspace with tensor a (FLOAT [1] = 2) and model m running backend.
func runFixture(t *testing.T, x *exec.Executor, backend copyModel) *fakeKeyspace {
	ks := newFakeKeyspace()
	t.Cleanup(ks.release)
	a, err := tensor.FromBlob(tensor.Float, []int64{1}, []byte{0, 0, 0, 0x40})
	if err != nil {
		t.Fatal(err)
	}
	ks.tensors["a"] = a
	ks.models["m"] = &fakeModel{meta: ModelMeta{Backend: "ONNX", Device: "CPU", Inputs: []string{"x"}, Outputs: []string{"y"}},
		exec: exec.NewModelSession(backend, x.Stats.Register(stats.Entry{Key: "m"}), x.Engine.Queue("CPU"), exec.Batching{})}
	return ks
}

func newExecutor(t *testing.T) *exec.Executor {
	e := engine.New(1, nil)
	t.Cleanup(func() { e.Stop(time.Second) })
	return &exec.Executor{Engine: e, Stats: stats.NewTable(), Log: t.Logf}
}

// runLine runs the command line to its end: the handler, the plan's run, and ReplyRun, whose reply
// (or error) it returns; timedOut makes the run's outcome a timeout.
func runLine(t *testing.T, x *exec.Executor, ks *fakeKeyspace, line string, timedOut bool) string {
	t.Helper()
	rt := newFakeRuntime()
	h := map[string]Handler{"AI.DAGEXECUTE": DAGExecute, "AI.MODELEXECUTE": ModelExecute}[string(args(line)[0])]
	if got := runAI(ks, rt, h, line); got != "" || len(rt.plans) != 1 {
		t.Fatalf("%s: replied %q at once, %d plans", line, got, len(rt.plans))
	}
	done := make(chan struct{})
	r := x.Submit(rt.plans[0], func() { close(done) })
	<-done
	defer r.Release()
	r.TimedOut = r.TimedOut || timedOut
	var reply textReply
	if err := ReplyRun(Env{Keys: ks, Out: &reply}, r); err != nil {
		if len(reply.parts) > 0 {
			t.Fatalf("%s: reply written before an error: %s", line, reply.String())
		}
		return "-" + err.Error()
	}
	return reply.String()
}

func TestReplyRun(t *testing.T) {
	const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"
	boom := errors.New("ERR boom")
	for _, c := range []struct {
		name      string
		fail      error
		otherKey  bool // b holds another type
		timedOut  bool
		line      string
		want      string
		persisted bool // b was written and replicated
	}{
		{name: "single", line: "AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b", want: "+OK", persisted: true},
		{name: "single failing", fail: boom, line: "AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b", want: "-ERR boom"},
		{name: "single into another type", otherKey: true, line: "AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b", want: wrongType},
		{name: "single timed out", timedOut: true, line: "AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b", want: "+TIMEDOUT"},
		{name: "dag", line: "AI.DAGEXECUTE LOAD 1 a PERSIST 1 b |> AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b VALUES",
			want: `*2 +OK tensor(FLOAT [1] 4 "\x00\x00\x00@")`, persisted: true},
		{name: "dag failing in the middle", fail: boom,
			line: "AI.DAGEXECUTE LOAD 1 a PERSIST 1 b |> AI.TENSORSET c FLOAT 1 VALUES 3 |> AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET c VALUES",
			want: "*3 +OK -ERR boom +NA"},
		{name: "dag persisting into another type", otherKey: true,
			line: "AI.DAGEXECUTE LOAD 1 a PERSIST 1 b |> AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b",
			want: "*2 +OK " + wrongType},
		{name: "dag timed out", timedOut: true, line: "AI.DAGEXECUTE LOAD 1 a PERSIST 1 b |> AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b",
			want: "+TIMEDOUT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := newExecutor(t)
			ks := runFixture(t, x, copyModel{fail: c.fail})
			ks.other["b"] = c.otherKey
			if got := runLine(t, x, ks, c.line, c.timedOut); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
			b, written := ks.tensors["b"]
			if written != c.persisted || (ks.replicated == 1) != c.persisted {
				t.Fatalf("b written %v, %d replications; want written %v", written, ks.replicated, c.persisted)
			}
			if written && string(b.Data()) != "\x00\x00\x00\x40" {
				t.Fatalf("b holds %v", b.Data())
			}
		})
	}
}
