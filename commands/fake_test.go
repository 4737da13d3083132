package commands

import (
	"errors"
	"fmt"
	"strings"

	"gorai/backends"
	"gorai/dlpack"
)

// fakeKeyspace is an in-memory keyspace: tensors, plus keys of some other type.
type fakeKeyspace struct {
	tensors    map[string]dlpack.Tensor
	other      map[string]bool
	replicated int
	maxBulk    int64
}

func newFakeKeyspace() *fakeKeyspace {
	return &fakeKeyspace{tensors: map[string]dlpack.Tensor{}, other: map[string]bool{}, maxBulk: 512 << 20}
}

func (k *fakeKeyspace) Tensor(key []byte) (dlpack.Tensor, error) {
	if k.other[string(key)] {
		return dlpack.Tensor{}, ErrWrongType
	}
	return k.tensors[string(key)], nil
}

func (k *fakeKeyspace) SetTensor(key []byte, t dlpack.Tensor) error {
	if k.other[string(key)] {
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
	if k.other[string(key)] {
		return nil, ErrWrongType
	}
	return nil, nil
}

func (k *fakeKeyspace) SetModel(key []byte, meta ModelMeta, session backends.Model, blob []byte) {
	session.Close()
}

func (k *fakeKeyspace) Delete(key []byte) { delete(k.tensors, string(key)) }
func (k *fakeKeyspace) MaxBulkLen() int64  { return k.maxBulk }

func (k *fakeKeyspace) release() {
	for _, t := range k.tensors {
		t.Release()
	}
}

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
	var r textReply
	err := h(Env{Keys: ks, Out: &r}, args(line))
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
