package exec

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorai/backends"
	"gorai/engine"
	"gorai/stats"
	"gorai/tensor"
)

// The tests run plans on a real engine against fake backends, with no server: a model whose run
// adds one to every byte of each input (so that batched rows are told apart), and stored objects
// that count their references.

// addOne is a backend model: each output is its input plus one, byte by byte.
type addOne struct {
	mu    sync.Mutex
	calls [][]int64 // the dim 0 of the first input of each call
	fail  error
	panic bool
	delay time.Duration // how long each call takes
	// rows, when set, is the dim 0 of the outputs instead of the inputs'.
	rows int64
	// outputs, when set, is the number of outputs instead of one per input.
	outputs int
	// unbounded: the model does not say its runs' work is set by its inputs' shapes.
	unbounded bool
}

func (m *addOne) ShapeBound() bool { return !m.unbounded }

func (m *addOne) Run(inputs []tensor.Tensor) ([]tensor.Tensor, error) {
	m.mu.Lock()
	m.calls = append(m.calls, []int64{inputs[0].Shape()[0]})
	m.mu.Unlock()
	time.Sleep(m.delay)
	if m.panic {
		panic("boom")
	}
	if m.fail != nil {
		return nil, m.fail
	}
	n := len(inputs)
	if m.outputs > 0 {
		n = m.outputs
	}
	var out []tensor.Tensor
	for i := range n {
		in := inputs[i%len(inputs)]
		shape := slices.Clone(in.Shape())
		data := slices.Clone(in.Data())
		if m.rows > 0 {
			shape[0] = m.rows
			data = make([]byte, m.rows*int64(len(data))/in.Shape()[0])
		}
		for k := range data {
			data[k]++
		}
		t, err := tensor.FromBlob(in.DType(), shape, data)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (m *addOne) callSizes() []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sizes []int64
	for _, c := range m.calls {
		sizes = append(sizes, c[0])
	}
	return sizes
}

func (m *addOne) InputNames() []string  { return nil }
func (m *addOne) OutputNames() []string { return nil }
func (m *addOne) Close()                {}

// stored is a stored model whose references are counted.
type stored struct {
	refs    atomic.Int64
	session *ModelSession
}

func (s *stored) Retain()                { s.refs.Add(1) }
func (s *stored) Release()               { s.refs.Add(-1) }
func (s *stored) Session() *ModelSession { return s.session }

type fixture struct {
	x      *Executor
	logged atomic.Int64
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{}
	e := engine.New(1, nil)
	t.Cleanup(func() { e.Stop(time.Second) })
	f.x = &Executor{Engine: e, Stats: stats.NewTable(), Log: func(string, ...any) { f.logged.Add(1) }}
	return f
}

func (f *fixture) model(m backends.Model, b Batching) *stored {
	st := f.x.Stats.Register(stats.Entry{Key: fmt.Sprintf("m%p", m)})
	return &stored{session: NewModelSession(m, st, f.x.Engine.Queue("CPU"), b)}
}

// hold keeps the CPU queue's only worker busy until the returned func is called.
func (f *fixture) hold(t *testing.T) func() {
	started, release := make(chan struct{}), make(chan struct{})
	f.x.Engine.Queue("CPU").Submit(&engine.Job{Run: func() { close(started); <-release }})
	<-started
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stop)
	return stop
}

// submit submits p and returns the run and a channel closed when it is over.
func (f *fixture) submit(p *Plan) (*Run, chan struct{}) {
	done := make(chan struct{})
	return f.x.Submit(p, func() { close(done) }), done
}

func wait(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run never finished")
	}
}

// tensor is a UINT8 tensor of the given rows of width bytes each, every byte v.
func newTensor(t *testing.T, rows, width int64, v byte) tensor.Tensor {
	t.Helper()
	data := make([]byte, rows*width)
	for i := range data {
		data[i] = v
	}
	tt, err := tensor.FromBlob(tensor.UInt8, []int64{rows, width}, data)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// released checks that the run's Release gave back every reference it took.
func released(t *testing.T, r *Run, inputs []tensor.Tensor, models ...*stored) {
	t.Helper()
	r.Release()
	for i, in := range inputs {
		if n := in.RefCount(); n != 1 {
			t.Errorf("input %d: %d references after the run's release, want the caller's 1", i, n)
		}
		in.Release()
	}
	for i, m := range models {
		if n := m.refs.Load(); n != 0 {
			t.Errorf("model %d: %d references left", i, n)
		}
	}
}

func TestSingleModelRun(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{})
	in := newTensor(t, 2, 3, 7)
	r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("out")}, 0))
	wait(t, done)
	if r.Err != nil || r.TimedOut || r.Done != 1 {
		t.Fatalf("err %v, timed out %v, done %d", r.Err, r.TimedOut, r.Done)
	}
	out := r.Slot(r.Plan.Persist[0].Slot)
	if got := out.Data(); string(got) != strings.Repeat("\x08", 6) {
		t.Fatalf("output %v", got)
	}
	if e, _ := f.x.Stats.Lookup(sm.session.Stats); e.Calls != 1 || e.Samples != 2 || e.Errors != 0 {
		t.Fatalf("stats %+v", e)
	}
	released(t, r, []tensor.Tensor{in}, sm)
}

// RunHere runs a detached plan on the caller's goroutine, so it ends while the queue's only worker
// is busy: its outputs stay in the run, and it is counted.
func TestRunHere(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{Size: 4})
	in := newTensor(t, 1, 2, 1)
	f.hold(t)
	p := Detached(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, 1)
	if len(p.Persist) != 0 {
		t.Fatalf("a detached plan persists %v", p.Persist)
	}
	r := f.x.RunHere(p)
	if r.Err != nil || r.Done != 1 {
		t.Fatalf("err %v, done %d", r.Err, r.Done)
	}
	if got := r.Slot(1).Data(); string(got) != "\x02\x02" {
		t.Fatalf("output %v", got)
	}
	e, _ := f.x.Stats.Lookup(sm.session.Stats)
	if e.Calls != 1 || e.Samples != 1 {
		t.Fatalf("stats %+v", e)
	}
	released(t, r, []tensor.Tensor{in}, sm)
}

// A run records the time it waited in its queue (here behind a job holding the worker) apart from
// its run time, which is 200 times shorter than the wait: far apart on a loaded machine too.
func TestQueueWaitAndRunTime(t *testing.T) {
	f := newFixture(t)
	const held, delay = 200 * time.Millisecond, time.Millisecond
	sm := f.model(&addOne{delay: delay}, Batching{})
	in := newTensor(t, 1, 1, 1)
	free := f.hold(t)
	r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("out")}, 0))
	time.Sleep(held)
	free()
	wait(t, done)
	e, _ := f.x.Stats.Lookup(sm.session.Stats)
	// The percentiles are histogram buckets' midpoints, within 1/64 of the times recorded.
	if e.QueueWait.P50 < held.Microseconds()*63/64 || e.RunTime.P50 < delay.Microseconds()*63/64 || e.RunTime.P50 >= e.QueueWait.P50 {
		t.Fatalf("queue wait %+v (held %v), run time %+v (took %v)", e.QueueWait, held, e.RunTime, delay)
	}
	released(t, r, []tensor.Tensor{in}, sm)
}

// A DAG whose ops outlast its TIMEOUT stops between two ops, timed out (RedisAI queued a DAG again
// after each op and checked its timeout each time): the op after did not run, and the run's slots
// hold nothing to persist.
func TestDAGOutlivesItsTimeout(t *testing.T) {
	f := newFixture(t)
	slow, never := &addOne{delay: 50 * time.Millisecond}, &addOne{}
	a, b := f.model(slow, Batching{}), f.model(never, Batching{})
	in := newTensor(t, 1, 4, 1)
	p := &Plan{Loaded: []tensor.Tensor{in}, Slots: 3, Timeout: 10 * time.Millisecond, Ops: []Op{
		{Kind: ModelRun, Model: a, Inputs: []int{0}, Outputs: []int{1}},
		{Kind: ModelRun, Model: b, Inputs: []int{1}, Outputs: []int{2}},
	}, Persist: []Persist{{Key: []byte("y"), Slot: 2}}}
	r, done := f.submit(p)
	wait(t, done)
	if !r.TimedOut || r.Done != 1 || len(never.callSizes()) != 0 || !r.Slot(2).IsZero() {
		t.Fatalf("timed out %v after %d ops, second op's calls %v", r.TimedOut, r.Done, never.callSizes())
	}
	released(t, r, []tensor.Tensor{in}, a, b)
}

// A DAG stops at its failing op: the ops before it ran, the ones after did not, and everything is
// released whatever ran.
func TestDAGFailsInTheMiddle(t *testing.T) {
	f := newFixture(t)
	ok, failing, never := &addOne{}, &addOne{fail: errors.New("ERR no")}, &addOne{}
	a, b, c := f.model(ok, Batching{}), f.model(failing, Batching{}), f.model(never, Batching{})
	in := newTensor(t, 1, 4, 1)
	set := newTensor(t, 1, 4, 5)
	p := &Plan{Loaded: []tensor.Tensor{in}, Slots: 5, Ops: []Op{
		{Kind: TensorSet, Tensor: set, Outputs: []int{1}},
		{Kind: ModelRun, Model: a, Inputs: []int{1}, Outputs: []int{2}},
		{Kind: ModelRun, Model: b, Inputs: []int{2}, Outputs: []int{3}},
		{Kind: ModelRun, Model: c, Inputs: []int{3}, Outputs: []int{4}},
	}, Persist: []Persist{{Key: []byte("y"), Slot: 4}}}
	set.Retain() // the test's own, to see the plan let go of it
	r, done := f.submit(p)
	wait(t, done)
	if r.Done != 2 || r.Err == nil || r.Err.Error() != "ERR no" {
		t.Fatalf("done %d, err %v", r.Done, r.Err)
	}
	if len(never.callSizes()) != 0 {
		t.Fatal("the op after the failure ran")
	}
	if got := r.Slot(2).Data(); string(got) != "\x06\x06\x06\x06" {
		t.Fatalf("the op before the failure gave %v", got)
	}
	if !r.Slot(3).IsZero() || !r.Slot(4).IsZero() {
		t.Fatal("slots of ops that failed or did not run hold tensors")
	}
	if e, _ := f.x.Stats.Lookup(b.session.Stats); e.Calls != 1 || e.Errors != 1 {
		t.Fatalf("failing model's stats %+v", e)
	}
	released(t, r, []tensor.Tensor{in, set}, a, b, c)
}

// A plan that waited in its queue longer than its timeout does not run.
func TestTimeout(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{})
	in := newTensor(t, 1, 1, 0)
	free := f.hold(t)
	r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("o")}, time.Millisecond))
	time.Sleep(5 * time.Millisecond)
	free()
	wait(t, done)
	if !r.TimedOut || len(m.callSizes()) != 0 {
		t.Fatalf("timed out %v, backend calls %v", r.TimedOut, m.callSizes())
	}
	released(t, r, []tensor.Tensor{in}, sm)
}

// A run whose client left before it started is skipped, batched or not.
func TestCancel(t *testing.T) {
	for _, b := range []Batching{{}, {Size: 4}} {
		f := newFixture(t)
		m := &addOne{}
		sm := f.model(m, b)
		in := newTensor(t, 1, 1, 0)
		free := f.hold(t)
		r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("o")}, 0))
		r.Cancel()
		free()
		wait(t, done)
		if r.Err == nil || len(m.callSizes()) != 0 {
			t.Fatalf("batching %+v: err %v, backend calls %v", b, r.Err, m.callSizes())
		}
		released(t, r, []tensor.Tensor{in}, sm)
	}
}

// A panicking backend fails the run with ErrInternal and is logged; the worker goes on.
func TestBackendPanic(t *testing.T) {
	f := newFixture(t)
	sm := f.model(&addOne{panic: true}, Batching{})
	in := newTensor(t, 1, 1, 0)
	r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("o")}, 0))
	wait(t, done)
	if !errors.Is(r.Err, ErrInternal) || f.logged.Load() != 1 {
		t.Fatalf("err %v, logged %d", r.Err, f.logged.Load())
	}
	released(t, r, []tensor.Tensor{in}, sm)
}

// A model that gives another number of outputs than asked fails the run.
func TestOutputCount(t *testing.T) {
	f := newFixture(t)
	sm := f.model(&addOne{outputs: 2}, Batching{})
	in := newTensor(t, 1, 1, 0)
	r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("o")}, 0))
	wait(t, done)
	if !errors.Is(r.Err, errOutputCount) {
		t.Fatalf("err %v", r.Err)
	}
	released(t, r, []tensor.Tensor{in}, sm)
}

// batchRuns queues one single run per input while the worker is held, then lets them run.
func batchRuns(t *testing.T, f *fixture, sm *stored, inputs []tensor.Tensor, between time.Duration) []*Run {
	free := f.hold(t)
	var runs []*Run
	var dones []chan struct{}
	for i, in := range inputs {
		if i > 0 {
			time.Sleep(between)
		}
		r, done := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in}, [][]byte{[]byte("o")}, 0))
		runs, dones = append(runs, r), append(dones, done)
		if i == 0 && between > 0 {
			free() // the first waits for more on the worker
		}
	}
	free()
	for _, d := range dones {
		wait(t, d)
	}
	t.Cleanup(func() {
		for i, r := range runs {
			released(t, r, inputs[i:i+1])
		}
		if n := sm.refs.Load(); n != 0 {
			t.Errorf("model: %d references left", n)
		}
	})
	return runs
}

// Runs of one model whose inputs agree past dim 0 are run as one call up to BATCHSIZE, and each
// gets its own rows back.
func TestBatchSizes(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{Size: 4})
	runs := batchRuns(t, f, sm, []tensor.Tensor{newTensor(t, 1, 2, 1), newTensor(t, 2, 2, 2), newTensor(t, 1, 2, 3), newTensor(t, 3, 2, 4)}, 0)
	if got := m.callSizes(); !slices.Equal(got, []int64{4, 3}) {
		t.Fatalf("backend calls of dims %v, want [4 3]", got)
	}
	for i, want := range []string{"\x02\x02", "\x03\x03\x03\x03", "\x04\x04", "\x05\x05\x05\x05\x05\x05"} {
		if r := runs[i]; r.Err != nil || string(r.Slot(1).Data()) != want {
			t.Fatalf("run %d: err %v, output %v", i, r.Err, r.Slot(1).Data())
		}
	}
	if e, _ := f.x.Stats.Lookup(sm.session.Stats); e.Calls != 4 || e.Samples != 7 {
		t.Fatalf("stats %+v", e)
	}
}

// Inputs that differ past dim 0, or in dtype, do not batch.
func TestBatchMixedShapes(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{Size: 8})
	other, err := tensor.FromBlob(tensor.Int8, []int64{1, 2}, []byte{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	batchRuns(t, f, sm, []tensor.Tensor{newTensor(t, 1, 2, 1), newTensor(t, 1, 3, 1), other, newTensor(t, 1, 2, 1)}, 0)
	if got := m.callSizes(); !slices.Equal(got, []int64{2, 1, 1}) {
		t.Fatalf("backend calls of dims %v, want [2 1 1] (the two alike together, then each other alone)", got)
	}
}

// MINBATCHSIZE holds a small batch back until more arrive; MINBATCHTIMEOUT bounds the wait.
func TestMinBatch(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{Size: 8, MinSize: 3})
	batchRuns(t, f, sm, []tensor.Tensor{newTensor(t, 1, 1, 1), newTensor(t, 1, 1, 1), newTensor(t, 1, 1, 1)}, 20*time.Millisecond)
	if got := m.callSizes(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("backend calls of dims %v, want one of 3", got)
	}

	m = &addOne{}
	sm = f.model(m, Batching{Size: 8, MinSize: 3, MinTimeout: 30 * time.Millisecond})
	batchRuns(t, f, sm, []tensor.Tensor{newTensor(t, 1, 1, 1)}, 0)
	if got := m.callSizes(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("backend calls of dims %v, want one of 1 after MINBATCHTIMEOUT", got)
	}
}

// A run whose client has gone leaves the batch that waits for more, without running: held, such
// runs piled up for ever without MINBATCHTIMEOUT, with their inputs and models, and counted toward
// MINBATCHSIZE; the batch waits for runs whose clients are there.
func TestMinBatchWithAGoneRun(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{Size: 8, MinSize: 2})
	run := func() (*Run, chan struct{}) {
		return f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{newTensor(t, 1, 1, 1)}, [][]byte{[]byte("o")}, 0))
	}
	gone, goneDone := run()
	time.Sleep(5 * time.Millisecond) // its worker gathers it, waiting for a second run
	gone.Cancel()
	wait(t, goneDone)
	if !errors.Is(gone.Err, errClientGone) || len(m.callSizes()) != 0 {
		t.Fatalf("the gone run: %v, backend calls %v", gone.Err, m.callSizes())
	}
	a, aDone := run()
	b, bDone := run()
	wait(t, aDone)
	wait(t, bDone)
	if got := m.callSizes(); !slices.Equal(got, []int64{2}) || a.Err != nil || b.Err != nil {
		t.Fatalf("backend calls of dims %v, errors %v %v: want one of 2, the two runs whose clients are there", got, a.Err, b.Err)
	}
}

// In a batch, each run records its own queue wait and the batch's run time: the first run waited
// 2*between on the worker for MINBATCHSIZE, the second between, the last hardly at all.
func TestBatchQueueWaits(t *testing.T) {
	f := newFixture(t)
	const between = 20 * time.Millisecond
	sm := f.model(&addOne{}, Batching{Size: 8, MinSize: 3})
	batchRuns(t, f, sm, []tensor.Tensor{newTensor(t, 1, 1, 1), newTensor(t, 1, 1, 1), newTensor(t, 1, 1, 1)}, between)
	e, _ := f.x.Stats.Lookup(sm.session.Stats)
	// Of three waits, p50 is the second's and p99 the first's.
	if e.QueueWait.P99 < (2*between).Microseconds() || e.QueueWait.P50 < between.Microseconds() || e.QueueWait.P50 >= e.QueueWait.P99 {
		t.Errorf("queue waits %+v, want p50 >= %v and p99 >= %v above it", e.QueueWait, between, 2*between)
	}
	if e.RunTime.P50 != e.RunTime.P999 {
		t.Errorf("run times %+v, want the batch's for each run", e.RunTime)
	}
}

// A batch whose outputs are not the batch's size fails every run in it, with the backend's words where
// it has its own (TF's).
func TestBatchWrongOutputSize(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		model backends.Model
		want  error
	}{{&addOne{rows: 5}, errBatchSize}, {&wordedAddOne{addOne{rows: 5}}, errWordedBatchSize}} {
		sm := f.model(c.model, Batching{Size: 4})
		runs := batchRuns(t, f, sm, []tensor.Tensor{newTensor(t, 1, 1, 1), newTensor(t, 1, 1, 1)}, 0)
		for i, r := range runs {
			if !errors.Is(r.Err, c.want) {
				t.Fatalf("run %d: err %v, want %v", i, r.Err, c.want)
			}
		}
	}
}

// wordedAddOne is addOne in a backend with its own words for a batch of the wrong size.
type wordedAddOne struct{ addOne }

var errWordedBatchSize = errors.New("ERR the backend's batch size error")

func (*wordedAddOne) BatchSizeError() error { return errWordedBatchSize }

// Scripts get the caller's context, their function, keys and args.
func TestScriptRun(t *testing.T) {
	f := newFixture(t)
	sc := &echoScript{}
	st := f.x.Stats.Register(stats.Entry{Key: "s", IsScript: true})
	ss := &storedScript{session: NewScriptSession(sc, st, f.x.Engine.Queue("CPU"))}
	in := newTensor(t, 1, 1, 9)
	p := Single(Op{Kind: ScriptRun, Script: ss, Function: "fn", Keys: []string{"k"}, Args: []string{"a"}},
		[]tensor.Tensor{in}, [][]byte{[]byte("o")}, 0)
	p.Caller = context.WithValue(context.Background(), callerKey{}, "alice")
	r, done := f.submit(p)
	wait(t, done)
	if r.Err != nil || sc.got != "alice fn [k] [a] 1" || r.Slot(1).IsZero() {
		t.Fatalf("err %v, script saw %q", r.Err, sc.got)
	}
	r.Release()
	if ss.refs.Load() != 0 || in.RefCount() != 1 {
		t.Fatalf("references left: script %d, input %d", ss.refs.Load(), in.RefCount())
	}
	in.Release()
}

// callerKey carries who runs a script, as the module's context does.
type callerKey struct{}

type echoScript struct{ got string }

func (s *echoScript) Run(ctx context.Context, fn string, inputs []tensor.Tensor, keys, args []string, n int) ([]tensor.Tensor, error) {
	s.got = fmt.Sprintf("%v %s %v %v %d", ctx.Value(callerKey{}), fn, keys, args, n)
	inputs[0].Retain()
	return inputs[:1], nil
}
func (s *echoScript) Close() {}

type storedScript struct {
	refs    atomic.Int64
	session *ScriptSession
}

func (s *storedScript) Retain()                 { s.refs.Add(1) }
func (s *storedScript) Release()                { s.refs.Add(-1) }
func (s *storedScript) Session() *ScriptSession { return s.session }

// A model run may be run in place once its model's last runs were all short, with inputs as large;
// a model's stored with BATCHSIZE alone too (on an idle queue its run would be a batch of one), not
// one's stored with MINBATCHSIZE (its run waits for others); not on a busy queue, not with the limit
// off, and not after a slow run.
func TestRunsInPlace(t *testing.T) {
	f := newFixture(t)
	f.x.InPlaceLimit = time.Second
	m := &addOne{}
	sm := f.model(m, Batching{})
	small, large := newTensor(t, 1, 2, 1), newTensor(t, 4, 2, 1)
	defer small.Release()
	defer large.Release()
	planOf := func(model *stored, in tensor.Tensor) *Plan {
		return Single(Op{Kind: ModelRun, Model: model}, []tensor.Tensor{in}, [][]byte{[]byte("out")}, 0)
	}
	plan := func(in tensor.Tensor) *Plan { return planOf(sm, in) }
	runPlan := func(p *Plan) {
		t.Helper()
		r, done := f.submit(p)
		wait(t, done)
		r.Release()
		// The worker calls the run's finish before it goes back to wait for work.
		for deadline := time.Now().Add(10 * time.Second); !sm.session.Queue.Idle(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the worker never went idle")
			}
		}
	}
	run := func(in tensor.Tensor) { t.Helper(); runPlan(plan(in)) }
	run(small) // the queue's workers start with its first job
	if f.x.RunsInPlace(plan(small)) {
		t.Fatal("in place after one run")
	}
	for range fastRunsNeeded {
		run(small)
	}
	if !f.x.RunsInPlace(plan(small)) {
		t.Fatalf("not in place after %d short runs", fastRunsNeeded+1)
	}
	if f.x.RunsInPlace(plan(large)) {
		t.Fatal("in place with a larger input than the short runs had")
	}
	// As many bytes, shaped otherwise: [2,1] is not within [1,2] (broadcast against another input or
	// a constant, its work can be many times the short runs').
	transposed := newTensor(t, 2, 1, 1)
	defer transposed.Release()
	if f.x.RunsInPlace(plan(transposed)) {
		t.Fatal("in place with an input of the short runs' bytes but a dim larger than theirs")
	}
	free := f.hold(t)
	if f.x.RunsInPlace(plan(small)) {
		t.Fatal("in place while a worker is busy")
	}
	free()
	f.x.InPlaceLimit = 0
	if f.x.RunsInPlace(plan(small)) {
		t.Fatal("in place with the limit off")
	}
	// A run a little over the limit sends the next one to a worker only. Its time is given to record
	// directly: a real run's time has no upper bound on a loaded machine (CI's race run).
	f.x.InPlaceLimit = time.Second
	sm.session.inPlace.record(2*time.Millisecond, time.Millisecond, []tensor.Tensor{small})
	if f.x.RunsInPlace(plan(small)) {
		t.Fatal("in place just after a run over the limit")
	}
	run(small)
	if !f.x.RunsInPlace(plan(small)) {
		t.Fatal("not in place after a short run following a run a little over the limit")
	}
	// A real run far over the limit starts the count again (its delay is a lower bound on its time).
	m.delay = 10 * time.Millisecond
	f.x.InPlaceLimit = time.Millisecond
	run(small)
	f.x.InPlaceLimit = time.Second
	m.delay = 0
	run(small)
	if f.x.RunsInPlace(plan(small)) {
		t.Fatal("in place one short run after a run far over the limit")
	}
	for _, c := range []struct {
		b    Batching
		want bool
	}{{Batching{Size: 4}, true}, {Batching{Size: 4, MinSize: 2, MinTimeout: time.Millisecond}, false}} {
		batched := f.model(&addOne{}, c.b)
		for range fastRunsNeeded {
			runPlan(planOf(batched, small))
		}
		if got := f.x.RunsInPlace(planOf(batched, small)); got != c.want {
			t.Errorf("a model stored with %+v: in place %v after %d short runs, want %v", c.b, got, fastRunsNeeded, c.want)
		}
	}
	// A model whose runs' work may come from its inputs' values (an ONNX Loop) never runs in place.
	loops := f.model(&addOne{unbounded: true}, Batching{})
	for range fastRunsNeeded + 1 {
		runPlan(planOf(loops, small))
	}
	if f.x.RunsInPlace(planOf(loops, small)) {
		t.Error("a model that is not shape-bound runs in place")
	}
}

// A DAG's model op of a model stored with BATCHSIZE is batched as RedisAI batches it: the DAG
// queues itself again at the op, which joins the model's queued single runs, and goes on with its
// rows; below MINBATCHSIZE it waits, and the DAG times out at its TIMEOUT. Two DAGs at such an op
// batch with each other. RunHere's plans (on the caller's thread) batch with nothing.
func TestDAGOpBatches(t *testing.T) {
	f := newFixture(t)
	m := &addOne{}
	sm := f.model(m, Batching{Size: 4})
	dagPlan := func(in tensor.Tensor, timeout time.Duration) *Plan {
		return &Plan{Loaded: []tensor.Tensor{in}, Slots: 3, Timeout: timeout, Ops: []Op{
			{Kind: ModelRun, Model: sm, Inputs: []int{0}, Outputs: []int{1}},
			{Kind: ModelRun, Model: sm, Inputs: []int{1}, Outputs: []int{2}},
		}}
	}
	// The DAG is queued first, then two single runs: its first op joins their batch.
	free := f.hold(t)
	dagIn, in1, in2 := newTensor(t, 1, 2, 1), newTensor(t, 1, 2, 10), newTensor(t, 2, 2, 20)
	dag, dagDone := f.submit(dagPlan(dagIn, 0))
	r1, done1 := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in1}, [][]byte{[]byte("o")}, 0))
	r2, done2 := f.submit(Single(Op{Kind: ModelRun, Model: sm}, []tensor.Tensor{in2}, [][]byte{[]byte("o")}, 0))
	free()
	wait(t, dagDone)
	wait(t, done1)
	wait(t, done2)
	if got := m.callSizes(); !slices.Equal(got, []int64{4, 1}) {
		t.Fatalf("backend calls of dims %v, want [4 1] (the DAG's first op with both runs, then its second op)", got)
	}
	if dag.Err != nil || dag.Done != 2 || string(dag.Slot(2).Data()) != "\x03\x03" {
		t.Fatalf("DAG: done %d, err %v, output %v", dag.Done, dag.Err, dag.Slot(2).Data())
	}
	if r1.Err != nil || string(r1.Slot(1).Data()) != "\x0b\x0b" || r2.Err != nil || string(r2.Slot(1).Data()) != "\x15\x15\x15\x15" {
		t.Fatalf("runs batched with the DAG: %v %v, %v %v", r1.Err, r1.Slot(1).Data(), r2.Err, r2.Slot(1).Data())
	}
	released(t, dag, []tensor.Tensor{dagIn})
	released(t, r1, []tensor.Tensor{in1})
	released(t, r2, []tensor.Tensor{in2}, sm)

	// Below MINBATCHSIZE (and no MINBATCHTIMEOUT) the DAG waits until its TIMEOUT.
	m = &addOne{}
	sm = f.model(m, Batching{Size: 4, MinSize: 2})
	in := newTensor(t, 1, 2, 1)
	start := time.Now()
	dag, dagDone = f.submit(dagPlan(in, 20*time.Millisecond))
	wait(t, dagDone)
	if !dag.TimedOut || len(m.callSizes()) != 0 || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("DAG below MINBATCHSIZE: timed out %v after %v, backend calls %v", dag.TimedOut, time.Since(start), m.callSizes())
	}
	released(t, dag, []tensor.Tensor{in}, sm)

	// Two DAGs waiting at an op of a model with MINBATCHSIZE 2 make its batch together.
	m = &addOne{}
	sm = f.model(m, Batching{Size: 4, MinSize: 2})
	in1, in2 = newTensor(t, 1, 2, 1), newTensor(t, 1, 2, 2)
	d1, done1 := f.submit(dagPlan(in1, 0))
	d2, done2 := f.submit(dagPlan(in2, 0))
	wait(t, done1)
	wait(t, done2)
	if got := m.callSizes(); !slices.Equal(got, []int64{2, 2}) {
		t.Fatalf("two DAGs: backend calls of dims %v, want [2 2] (each op of both together)", got)
	}
	if d1.Err != nil || string(d1.Slot(2).Data()) != "\x03\x03" || d2.Err != nil || string(d2.Slot(2).Data()) != "\x04\x04" {
		t.Fatalf("two DAGs: %v %v, %v %v", d1.Err, d1.Slot(2).Data(), d2.Err, d2.Slot(2).Data())
	}
	released(t, d1, []tensor.Tensor{in1})
	released(t, d2, []tensor.Tensor{in2}, sm)

	// RunHere does not wait for a batch.
	in = newTensor(t, 1, 2, 1)
	here := f.x.RunHere(dagPlan(in, 0))
	if here.Err != nil || here.Done != 2 || !slices.Equal(m.callSizes(), []int64{2, 2, 1, 1}) {
		t.Fatalf("RunHere of the DAG: done %d, err %v, calls %v", here.Done, here.Err, m.callSizes())
	}
	released(t, here, []tensor.Tensor{in}, sm)
}
