package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"gorai/backends"
	"gorai/dlpack"
	"gorai/stats"
)

// The backends as the module registers them (backends/registrytest checks the real ones): their
// names, order and TF's node names are what the commands read.
func init() {
	for i, name := range []string{"TF", "TFLITE", "TORCH", "ONNX"} {
		backends.Register(backends.Driver{Name: name, RDBIndex: i, NodeNames: name == "TF", Scripts: name == "TORCH"})
	}
}

// fakeKeyspace is an in-memory keyspace: tensors, models, scripts, plus keys of some other type.
type fakeKeyspace struct {
	tensors    map[string]dlpack.Tensor
	models     map[string]*fakeModel
	scripts    map[string]*fakeScript
	other      map[string]bool
	replicated int
	modelSets  int // SetModel calls
	scriptSets int // SetScript calls
	deletes    int // Delete calls
	maxBulk    int64
	read       []string // every key looked up (Tensor, Model, Script), in order
}

func newFakeKeyspace() *fakeKeyspace {
	return &fakeKeyspace{tensors: map[string]dlpack.Tensor{}, models: map[string]*fakeModel{},
		scripts: map[string]*fakeScript{}, other: map[string]bool{}, maxBulk: 512 << 20}
}

// notTensor: the key holds a model, a script or another type.
func (k *fakeKeyspace) notTensor(key []byte) bool {
	return k.other[string(key)] || k.models[string(key)] != nil || k.scripts[string(key)] != nil
}

func (k *fakeKeyspace) Tensor(key []byte) (dlpack.Tensor, error) {
	k.read = append(k.read, string(key))
	if k.notTensor(key) {
		return dlpack.Tensor{}, ErrWrongType
	}
	return k.tensors[string(key)], nil
}

func (k *fakeKeyspace) SetTensor(key []byte, t dlpack.Tensor) error {
	if k.notTensor(key) {
		t.Release()
		return ErrWrongType
	}
	if old, ok := k.tensors[string(key)]; ok {
		old.Release()
	}
	k.tensors[string(key)] = t
	return nil
}

func (k *fakeKeyspace) ReplicateVerbatim() { k.replicated++ }

func (k *fakeKeyspace) Model(key []byte) (Model, error) {
	k.read = append(k.read, string(key))
	if _, ok := k.tensors[string(key)]; ok || k.other[string(key)] || k.scripts[string(key)] != nil {
		return nil, ErrWrongType
	}
	if m := k.models[string(key)]; m != nil {
		return m, nil
	}
	return nil, nil
}

// SetModel stores the model with copies of meta and blob (the caller's buffers may be reused),
// freeing blob as the module's stored model would when it goes.
func (k *fakeKeyspace) SetModel(key []byte, meta ModelMeta, session backends.Model, blob Blob) {
	k.modelSets++
	if old := k.models[string(key)]; old != nil && old.session != nil {
		old.session.Close()
	}
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.Inputs = append([]string(nil), meta.Inputs...)
	meta.Outputs = append([]string(nil), meta.Outputs...)
	k.models[string(key)] = &fakeModel{meta: meta, blob: append([]byte{}, blob.Bytes()...), session: session}
	blob.Free()
}

func (k *fakeKeyspace) Script(key []byte) (Script, error) {
	k.read = append(k.read, string(key))
	if _, ok := k.tensors[string(key)]; ok || k.other[string(key)] || k.models[string(key)] != nil {
		return nil, ErrWrongType
	}
	if s := k.scripts[string(key)]; s != nil {
		return s, nil
	}
	return nil, nil
}

// SetScript stores the script with copies of meta and source (the caller's buffers may be reused).
func (k *fakeKeyspace) SetScript(key []byte, meta ScriptMeta, compiled backends.Script, source []byte) {
	k.scriptSets++
	if old := k.scripts[string(key)]; old != nil && old.compiled != nil {
		old.compiled.Close()
	}
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.EntryPoints = slices.Clone(meta.EntryPoints) // keeps nil apart from empty
	k.scripts[string(key)] = &fakeScript{meta: meta, source: append([]byte{}, source...), compiled: compiled}
}

func (k *fakeKeyspace) Delete(key []byte) {
	k.deletes++
	if m := k.models[string(key)]; m != nil && m.session != nil {
		m.session.Close()
	}
	if s := k.scripts[string(key)]; s != nil && s.compiled != nil {
		s.compiled.Close()
	}
	delete(k.models, string(key))
	delete(k.scripts, string(key))
	delete(k.tensors, string(key))
}
func (k *fakeKeyspace) MaxBulkLen() int64 { return k.maxBulk }

func (k *fakeKeyspace) release() {
	for _, t := range k.tensors {
		t.Release()
	}
	for _, m := range k.models {
		if m.session != nil {
			m.session.Close()
		}
	}
	for _, s := range k.scripts {
		if s.compiled != nil {
			s.compiled.Close()
		}
	}
}

// fakeModel is a stored model.
type fakeModel struct {
	meta    ModelMeta
	blob    []byte
	session backends.Model
}

func (m *fakeModel) Meta() ModelMeta   { return m.meta }
func (m *fakeModel) Blob() []byte      { return m.blob }
func (m *fakeModel) Arity() (int, int) { return len(m.meta.Inputs), len(m.meta.Outputs) }

// fakeSession is what fakeRuntime.OpenModel builds.
type fakeSession struct {
	inputs, outputs []string
	closed          int
}

func (s *fakeSession) Run(inputs []dlpack.Tensor) ([]dlpack.Tensor, error) {
	return nil, errors.New("fakeSession does not run")
}
func (s *fakeSession) InputNames() []string  { return s.inputs }
func (s *fakeSession) OutputNames() []string { return s.outputs }
func (s *fakeSession) Close()                { s.closed++ }

// fakeScript is a stored script.
type fakeScript struct {
	meta     ScriptMeta
	source   []byte
	compiled backends.Script
}

func (s *fakeScript) Meta() ScriptMeta { return s.meta }
func (s *fakeScript) Source() []byte   { return s.source }

// fakeCompiled is what fakeRuntime.OpenScript builds.
type fakeCompiled struct{ closed int }

func (c *fakeCompiled) Run(_ context.Context, fn string, inputs []dlpack.Tensor, keys, args []string, nOutputs int) ([]dlpack.Tensor, error) {
	return nil, errors.New("fakeCompiled does not run")
}
func (c *fakeCompiled) Close() { c.closed++ }

type scriptOpenCall struct {
	meta   ScriptMeta
	source []byte
}

// scriptExecuteCall is a ScriptExecution with its borrowed parts copied.
type scriptExecuteCall struct {
	script                 Script
	function               string
	inputs                 [][]byte // the data of each input tensor
	inputPtrs              []dlpack.Tensor
	keys, args, outputKeys []string
	timeout                time.Duration
}

type openCall struct {
	meta ModelMeta
	blob []byte
}

// executeCall is a ModelExecution with its borrowed parts copied.
type executeCall struct {
	model      Model
	inputs     [][]byte // the data of each input tensor
	inputPtrs  []dlpack.Tensor
	outputKeys []string
	timeout    time.Duration
}

type loadCall struct{ name, path string }

// fakeRuntime records what the commands ask of it and fails with the configured errors (openErr
// and execErr for models and scripts alike; txErr as a transaction refuses runs).
type fakeRuntime struct {
	openErr, execErr, loadErr, txErr error
	opened                           []openCall
	sessions                         []*fakeSession
	executed                         []executeCall
	scriptsOpened                    []scriptOpenCall
	compiled                         []*fakeCompiled
	scriptsExecuted                  []scriptExecuteCall
	dags                             []*DAGPlan // every plan handed to ExecuteDAG, refused ones included
	loaded                           []loadCall
	stats                            *stats.Table
	config                           Config
	// deferBuilds keeps offloaded builds in built instead of committing them at once.
	deferBuilds bool
	built       []Built
	blobsLive   int // blobs made by JoinBlob and not freed
}

// fakeBlob counts, in its runtime, the blobs not yet freed.
type fakeBlob struct {
	b  []byte
	rt *fakeRuntime
}

func (b *fakeBlob) Bytes() []byte { return b.b }
func (b *fakeBlob) Free() {
	if b.rt.blobsLive--; b.rt.blobsLive < 0 {
		panic("a blob freed twice")
	}
}

func (r *fakeRuntime) JoinBlob(chunks [][]byte) Blob {
	r.blobsLive++
	return &fakeBlob{bytes.Join(chunks, nil), r}
}

func (r *fakeRuntime) Offload(env Env, build func(Builder) Built) error {
	b := build(r)
	if r.deferBuilds {
		r.built = append(r.built, b)
		return nil
	}
	return b.Commit(env)
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{stats: stats.NewTable(), config: DefaultConfig("/m")}
}

func (r *fakeRuntime) OpenModel(meta ModelMeta, blob []byte) (backends.Model, error) {
	meta.Tag = append([]byte{}, meta.Tag...)
	r.opened = append(r.opened, openCall{meta, append([]byte{}, blob...)})
	if r.openErr != nil {
		return nil, r.openErr
	}
	s := &fakeSession{inputs: meta.Inputs, outputs: meta.Outputs}
	r.sessions = append(r.sessions, s)
	return s, nil
}

func (r *fakeRuntime) CanExecute() error { return r.txErr }

func (r *fakeRuntime) ExecuteModel(run ModelExecution) error {
	c := executeCall{model: run.Model, timeout: run.Timeout, inputPtrs: append([]dlpack.Tensor{}, run.Inputs...)}
	for _, t := range run.Inputs {
		if t.IsZero() {
			c.inputs = append(c.inputs, nil)
		} else {
			c.inputs = append(c.inputs, append([]byte{}, t.Data()...))
		}
	}
	for _, k := range run.OutputKeys {
		c.outputKeys = append(c.outputKeys, string(k))
	}
	r.executed = append(r.executed, c)
	return r.execErr
}

func (r *fakeRuntime) OpenScript(meta ScriptMeta, source []byte) (backends.Script, error) {
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.EntryPoints = slices.Clone(meta.EntryPoints) // keeps nil apart from empty
	r.scriptsOpened = append(r.scriptsOpened, scriptOpenCall{meta, append([]byte{}, source...)})
	if r.openErr != nil {
		return nil, r.openErr
	}
	c := &fakeCompiled{}
	r.compiled = append(r.compiled, c)
	return c, nil
}

func (r *fakeRuntime) ExecuteScript(run ScriptExecution) error {
	c := scriptExecuteCall{script: run.Script, function: run.Function, timeout: run.Timeout,
		inputPtrs: append([]dlpack.Tensor{}, run.Inputs...)}
	for _, t := range run.Inputs {
		if t.IsZero() {
			c.inputs = append(c.inputs, nil)
		} else {
			c.inputs = append(c.inputs, append([]byte{}, t.Data()...))
		}
	}
	c.keys, c.args, c.outputKeys = toStrings(run.Keys), toStrings(run.Args), toStrings(run.OutputKeys)
	r.scriptsExecuted = append(r.scriptsExecuted, c)
	return r.execErr
}

// ExecuteDAG records the plan. When it fails (execErr), the handler still owns the plan and
// releases it; otherwise the test does (releaseDAGs).
func (r *fakeRuntime) ExecuteDAG(plan *DAGPlan) error {
	r.dags = append(r.dags, plan)
	return r.execErr
}

// releaseDAGs releases every recorded plan (Release may be called again on a released plan).
func (r *fakeRuntime) releaseDAGs() {
	for _, p := range r.dags {
		p.Release()
	}
}

// dagTensorCounter counts the tensors DAG parsing builds and releases, through the seams of dag.go
// (buildDAGTensor, releaseDAGTensor).
type dagTensorCounter struct {
	built, released int
	live            map[unsafe.Pointer]bool
	bad             string // a release of a tensor that is not live
}

// countDAGTensors installs a counter until the test ends.
func countDAGTensors(tb testing.TB) *dagTensorCounter {
	c := &dagTensorCounter{live: map[unsafe.Pointer]bool{}}
	build, release := buildDAGTensor, releaseDAGTensor
	buildDAGTensor = func(args [][]byte, maxBulkLen func() int64) (dlpack.Tensor, error) {
		t, err := build(args, maxBulkLen)
		if err == nil {
			c.built++
			c.live[t.Pointer()] = true
		}
		return t, err
	}
	releaseDAGTensor = func(t dlpack.Tensor) {
		if !c.live[t.Pointer()] {
			c.bad = "a tensor released twice, or not built by the DAG"
		}
		delete(c.live, t.Pointer())
		c.released++
		release(t)
	}
	tb.Cleanup(func() { buildDAGTensor, releaseDAGTensor = build, release })
	return c
}

// check fails unless exactly want built tensors are live and no release was wrong.
func (c *dagTensorCounter) check(tb testing.TB, what string, want int) {
	tb.Helper()
	if len(c.live) != want || c.bad != "" || c.built-c.released != want {
		tb.Fatalf("%s: %d tensors live (built %d, released %d), want %d %s", what, len(c.live), c.built, c.released, want, c.bad)
	}
}

func (r *fakeRuntime) LoadBackend(name, path string) error {
	r.loaded = append(r.loaded, loadCall{name, path})
	return r.loadErr
}

func (r *fakeRuntime) Stats() *stats.Table { return r.stats }
func (r *fakeRuntime) Config() *Config     { return &r.config }

// textReply renders a reply as text: +OK, *n, $"bulk", :int, ,double, _ (null).
type textReply struct{ parts []string }

func (r *textReply) OK()                { r.add("+OK") }
func (r *textReply) Array(n int)        { r.add(fmt.Sprintf("*%d", n)) }
func (r *textReply) Bulk(s string)      { r.add(fmt.Sprintf("$%q", s)) }
func (r *textReply) BulkBytes(b []byte) { r.add(fmt.Sprintf("$%q", b)) }
func (r *textReply) TensorData(t dlpack.Tensor) {
	r.add(fmt.Sprintf("$%q", t.Data()))
}
func (r *textReply) Int(v int64)      { r.add(fmt.Sprintf(":%d", v)) }
func (r *textReply) Double(v float64) { r.add(fmt.Sprintf(",%.17g", v)) }
func (r *textReply) Null()            { r.add("_") }
func (r *textReply) add(s string)     { r.parts = append(r.parts, s) }
func (r *textReply) String() string   { return strings.Join(r.parts, " ") }

// run runs a handler with the command line split on spaces; it returns the reply text, or the error
// text ("-" + error, "-ARITY" for the wrong-arity error).
func run(ks *fakeKeyspace, h Handler, line string) string {
	return runAI(ks, nil, h, line)
}

// runAI is run with a runtime (nil: none).
func runAI(ks *fakeKeyspace, rt *fakeRuntime, h Handler, line string) string {
	return runArgs(ks, rt, h, args(line))
}

func runArgs(ks *fakeKeyspace, rt *fakeRuntime, h Handler, a [][]byte) string {
	var r textReply
	env := Env{Keys: ks, Out: &r}
	if rt != nil {
		env.AI = rt
	}
	err := h(env, a)
	switch {
	case errors.Is(err, ErrWrongArity):
		return "-ARITY"
	case err != nil:
		if len(r.parts) > 0 {
			return "reply written before an error: " + r.String()
		}
		return "-" + err.Error()
	}
	return r.String()
}

func args(line string) [][]byte {
	var out [][]byte
	for _, f := range strings.Split(line, " ") {
		out = append(out, []byte(strings.ReplaceAll(f, `\0`, "\x00")))
	}
	return out
}
