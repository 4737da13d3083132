package commands

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gorai/backends"
	"gorai/dlpack"
	"gorai/engine"
)

// fakeKeyspace is an in-memory keyspace: tensors, models, plus keys of some other type.
type fakeKeyspace struct {
	tensors    map[string]dlpack.Tensor
	models     map[string]*fakeModel
	other      map[string]bool
	replicated int
	modelSets  int // SetModel calls
	deletes    int // Delete calls
	maxBulk    int64
}

func newFakeKeyspace() *fakeKeyspace {
	return &fakeKeyspace{tensors: map[string]dlpack.Tensor{}, models: map[string]*fakeModel{},
		other: map[string]bool{}, maxBulk: 512 << 20}
}

func (k *fakeKeyspace) Tensor(key []byte) (dlpack.Tensor, error) {
	if k.other[string(key)] || k.models[string(key)] != nil {
		return dlpack.Tensor{}, ErrWrongType
	}
	return k.tensors[string(key)], nil
}

func (k *fakeKeyspace) SetTensor(key []byte, t dlpack.Tensor) error {
	if k.other[string(key)] || k.models[string(key)] != nil {
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
	if _, ok := k.tensors[string(key)]; ok || k.other[string(key)] {
		return nil, ErrWrongType
	}
	if m := k.models[string(key)]; m != nil {
		return m, nil
	}
	return nil, nil
}

// SetModel stores the model with copies of meta and blob (the caller's buffers may be reused).
func (k *fakeKeyspace) SetModel(key []byte, meta ModelMeta, session backends.Model, blob []byte) {
	k.modelSets++
	if old := k.models[string(key)]; old != nil && old.session != nil {
		old.session.Close()
	}
	meta.Tag = append([]byte{}, meta.Tag...)
	meta.Inputs = append([]string(nil), meta.Inputs...)
	meta.Outputs = append([]string(nil), meta.Outputs...)
	k.models[string(key)] = &fakeModel{meta: meta, blob: append([]byte{}, blob...), session: session}
}

func (k *fakeKeyspace) Delete(key []byte) {
	k.deletes++
	if m := k.models[string(key)]; m != nil && m.session != nil {
		m.session.Close()
	}
	delete(k.models, string(key))
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

// fakeRuntime records what the commands ask of it and fails with the configured errors.
type fakeRuntime struct {
	openErr, execErr, loadErr error
	opened                    []openCall
	sessions                  []*fakeSession
	executed                  []executeCall
	loaded                    []loadCall
	stats                     *engine.Stats
	config                    Config
}

func newFakeRuntime() *fakeRuntime {
	return &fakeRuntime{stats: engine.NewStats(), config: DefaultConfig("/m")}
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

func (r *fakeRuntime) LoadBackend(name, path string) error {
	r.loaded = append(r.loaded, loadCall{name, path})
	return r.loadErr
}

func (r *fakeRuntime) Stats() *engine.Stats { return r.stats }
func (r *fakeRuntime) Config() *Config      { return &r.config }

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
