package torch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"gorai/backends"
	"gorai/tensor"
)

// The scripts of these tests, in the forms clients send them.

// entrySource is an AI.SCRIPTSTORE script: entry points and a helper.
const entrySource = `
def helper(x: Tensor) -> Tensor:
    return x * 2

def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def scale(tensors: List[Tensor], keys: List[str], args: List[str]):
    return helper(tensors[0]) * int(args[0])

def count(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.tensor([len(tensors), len(keys), len(args), len(keys[0])])

def svd(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.svd(tensors[0])

def as_list(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0], tensors[0] + 1]

def nothing(tensors: List[Tensor], keys: List[str], args: List[str]):
    x = tensors[0] + 1
`

// legacySource is an AI.SCRIPTSET script, called positionally (AI.SCRIPTRUN).
const legacySource = `
def add(a, b):
    return a + b

def add_typed(a: Tensor, b: Tensor) -> Tensor:
    return a + b

def first_plus_rest(a: Tensor, rest: List[Tensor]):
    s = a
    for t in rest:
        s = s + t
    return s

def all_of(tensors: List[Tensor]):
    return torch.cat(tensors, dim=0)

def pair(a: Tensor, b: Tensor):
    return a + b, a - b

def returns_int(a: Tensor) -> int:
    return 3

def returns_mixed(a: Tensor):
    return a, 3

def returns_none(a: Tensor):
    pass

def takes_int(a: Tensor, n: int):
    return a * n

def list_not_last(rest: List[Tensor], a: Tensor):
    return a

def raises(a: Tensor):
    assert bool(a.sum() <= 0), "the sum is positive"
    return a

def bad_shapes(a: Tensor, b: Tensor):
    return torch.mm(a, b)
`

// nestedSource is what SmartRedis's set_function sends for a function defined inside another: the
// indented text of inspect.getsource, with a blank line holding fewer spaces.
const nestedSource = "    def nested_add(a, b):\n" +
	"        # a comment\n" +
	"  \n" +
	"        c = a + b\n" +
	"\n" +
	"        return c\n"

func newScript(t *testing.T, source string, entryPoints ...string) backends.Script {
	t.Helper()
	sb, ok := lib.Need(t).(backends.ScriptBackend)
	if !ok {
		t.Fatal("the TORCH backend is no ScriptBackend")
	}
	s, err := sb.NewScript([]byte(source), backends.ScriptOptions{Device: "CPU", EntryPoints: entryPoints})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func compile(t *testing.T, source string, opts backends.ScriptOptions) (backends.Script, error) {
	t.Helper()
	s, err := lib.Need(t).(backends.ScriptBackend).NewScript([]byte(source), opts)
	if s != nil {
		t.Cleanup(s.Close)
	}
	return s, err
}

func floats(t *testing.T, shape []int64, data ...float64) tensor.Tensor {
	t.Helper()
	return makeTensor(t, tensorJSON{DType: "FLOAT", Shape: shape, Data: data})
}

func want(dtype string, shape []int64, data ...float64) tensorJSON {
	return tensorJSON{DType: dtype, Shape: shape, Data: data}
}

func TestScriptEntryPoints(t *testing.T) {
	s := newScript(t, entrySource, "bar", "scale", "count", "svd", "as_list", "nothing")
	a := floats(t, []int64{2, 2}, 1, 2, 3, 4)
	b := floats(t, []int64{2, 2}, 10, 20, 30, 40)

	cases := []struct {
		fn     string
		inputs []tensor.Tensor
		keys   []string
		args   []string
		want   []tensorJSON
	}{
		{"bar", []tensor.Tensor{a, b}, nil, nil, []tensorJSON{want("FLOAT", []int64{2, 2}, 11, 22, 33, 44)}},
		{"scale", []tensor.Tensor{a}, []string{"k"}, []string{"3"}, []tensorJSON{want("FLOAT", []int64{2, 2}, 6, 12, 18, 24)}},
		// Keys are binary: a NUL byte is one of the 3 bytes of the first key.
		{"count", []tensor.Tensor{a, b}, []string{"a\x00b", ""}, []string{"x", "", "z"}, []tensorJSON{want("INT64", []int64{4}, 2, 2, 3, 3)}},
		{"as_list", []tensor.Tensor{a}, nil, nil, []tensorJSON{want("FLOAT", []int64{2, 2}, 1, 2, 3, 4), want("FLOAT", []int64{2, 2}, 2, 3, 4, 5)}},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			got, err := s.Run(context.Background(), c.fn, c.inputs, c.keys, c.args, len(c.want))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkOutputs(got, c.want); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("svd", func(t *testing.T) {
		// A tuple of three tensors is three outputs; U diag(S) V^T gives the input back.
		m := floats(t, []int64{3, 2}, 1, 2, 3, 4, 5, 6)
		got, err := s.Run(context.Background(), "svd", []tensor.Tensor{m}, nil, nil, 3)
		if err != nil {
			t.Fatal(err)
		}
		defer releaseAll(got)
		if fmt.Sprint(got[0].Shape(), got[1].Shape(), got[2].Shape()) != "[3 2] [2] [2 2]" {
			t.Fatalf("shapes %v %v %v", got[0].Shape(), got[1].Shape(), got[2].Shape())
		}
		u, sv, v := got[0], got[1], got[2]
		for i := range 3 {
			for j := range 2 {
				var x float64
				for k := range 2 {
					x += u.Float(i*2+k) * sv.Float(k) * v.Float(j*2+k)
				}
				if w := float64(i*2 + j + 1); math.Abs(x-w) > 1e-4 {
					t.Fatalf("U S V^T [%d,%d] = %v, want %v", i, j, x, w)
				}
			}
		}
	})

	t.Run("no outputs", func(t *testing.T) {
		// With no OUTPUTS the return value is ignored, whatever it is.
		for _, fn := range []string{"nothing", "bar"} {
			got, err := s.Run(context.Background(), fn, []tensor.Tensor{a, b}, nil, nil, 0)
			if err != nil || len(got) != 0 {
				t.Fatalf("%s: %v %v", fn, got, err)
			}
		}
	})
}

func TestScriptLegacy(t *testing.T) {
	s := newScript(t, legacySource)
	a := floats(t, []int64{2}, 1, 2)
	b := floats(t, []int64{2}, 10, 20)
	c := floats(t, []int64{2}, 100, 200)
	cases := []struct {
		fn     string
		inputs []tensor.Tensor
		want   []tensorJSON
	}{
		{"add", []tensor.Tensor{a, b}, []tensorJSON{want("FLOAT", []int64{2}, 11, 22)}},
		{"add_typed", []tensor.Tensor{a, b}, []tensorJSON{want("FLOAT", []int64{2}, 11, 22)}},
		// Inputs beyond the parameters are ignored, as in RedisAI.
		{"add", []tensor.Tensor{a, b, c}, []tensorJSON{want("FLOAT", []int64{2}, 11, 22)}},
		// A trailing List[Tensor] takes the rest.
		{"first_plus_rest", []tensor.Tensor{a, b, c}, []tensorJSON{want("FLOAT", []int64{2}, 111, 222)}},
		{"first_plus_rest", []tensor.Tensor{a, b}, []tensorJSON{want("FLOAT", []int64{2}, 11, 22)}},
		{"all_of", []tensor.Tensor{a, b, c}, []tensorJSON{want("FLOAT", []int64{6}, 1, 2, 10, 20, 100, 200)}},
		// A tuple maps to several outputs.
		{"pair", []tensor.Tensor{a, b}, []tensorJSON{want("FLOAT", []int64{2}, 11, 22), want("FLOAT", []int64{2}, -9, -18)}},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			got, err := s.Run(context.Background(), c.fn, c.inputs, nil, nil, len(c.want))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkOutputs(got, c.want); err != nil {
				t.Fatal(err)
			}
		})
	}

	// A function that is no entry point of an AI.SCRIPTSTORE script is called the legacy way too.
	e := newScript(t, entrySource+legacySource, "bar")
	got, err := e.Run(context.Background(), "add", []tensor.Tensor{a, b}, []string{"ignored"}, []string{"ignored"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOutputs(got, []tensorJSON{want("FLOAT", []int64{2}, 11, 22)}); err != nil {
		t.Fatal(err)
	}
}

func TestScriptIndented(t *testing.T) {
	s := newScript(t, nestedSource)
	a := floats(t, []int64{2}, 1, 2)
	got, err := s.Run(context.Background(), "nested_add", []tensor.Tensor{a, a}, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOutputs(got, []tensorJSON{want("FLOAT", []int64{2}, 2, 4)}); err != nil {
		t.Fatal(err)
	}
	// Tabs, an entry point, and CRLF line ends.
	tabbed := "\tdef tab(tensors: List[Tensor], keys: List[str], args: List[str]):\r\n\t\treturn tensors[0] * 3\r\n"
	s = newScript(t, tabbed, "tab")
	got, err = s.Run(context.Background(), "tab", []tensor.Tensor{a}, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOutputs(got, []tensorJSON{want("FLOAT", []int64{2}, 3, 6)}); err != nil {
		t.Fatal(err)
	}
}

func TestScriptCompileErrors(t *testing.T) {
	cases := []struct {
		name, source string
		entryPoints  []string
		want         string // the whole error, or its start when it ends with "..."
	}{
		{"missing entry point", entrySource, []string{"bar", "bar1"}, "Function bar1 does not exist in the given script."},
		{"two parameters", legacySource, []string{"add"}, "Wrong number of inputs in function add. Expected 3 but was 2"},
		{"one parameter", legacySource, []string{"all_of"}, "Wrong number of inputs in function all_of. Expected 3 but was 1"},
		{"parameter types", "def bar(tensors: List[Tensor], keys: List[str], args: List[int]):\n    return tensors[0]\n",
			[]string{"bar"}, "Wrong inputs type in function bar. Expected signature similar to: def bar(tensors: List[Tensor], keys: List[str], args: List[str])"},
		{"untyped", "def bar(tensors, keys, args):\n    return tensors\n",
			[]string{"bar"}, "Wrong inputs type in function bar. Expected signature similar to: def bar(tensors: List[Tensor], keys: List[str], args: List[str])"},
		{"syntax", "def bar(a, b)\n    return a + b\n", nil, "..."},
		{"unknown name", "def bar(a):\n    return numpy.zeros(a)\n", nil, "..."},
		{"empty", "", []string{"bar"}, "Function bar does not exist in the given script."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := compile(t, c.source, backends.ScriptOptions{Device: "CPU", EntryPoints: c.entryPoints})
			if s != nil {
				t.Fatal("compiled")
			}
			checkOneLine(t, err)
			if prefix, ok := strings.CutSuffix(c.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("got %q, want %q...", err, prefix)
				}
			} else if err.Error() != c.want {
				t.Fatalf("got %q\nwant %q", err, c.want)
			}
		})
	}
	// A whole source compiles without entry points, and an empty one too (AI.SCRIPTSET).
	if _, err := compile(t, "", backends.ScriptOptions{Device: "CPU"}); err != nil {
		t.Fatal(err)
	}
}

// A script nested deeper than TorchScript's recursive parser has stack for crashes the trial program's
// child, not this process, and is refused; a trusted one is not tried (a program that is not there
// refuses every untrusted script).
func TestScriptTrial(t *testing.T) {
	lib.Need(t)
	if trial.Program == "" {
		t.Fatalf("no %s beside the shim (make build builds it): the crash would end this test", TrialProgram)
	}
	deep := "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return " +
		strings.Repeat("(", 20000) + "tensors[0]" + strings.Repeat(")", 20000) + "\n"
	const crashed = "ERR TORCH script crashed the runtime (segmentation fault) when tried in a process of its own"
	if _, err := compile(t, deep, backends.ScriptOptions{Device: "CPU", EntryPoints: []string{"f"}}); err == nil || err.Error() != crashed {
		t.Errorf("a script 20,000 parentheses deep: %v, want %q", err, crashed)
	}
	saved := trial
	t.Cleanup(func() { trial = saved })
	trial = &backends.Trial{Backend: "TORCH", Program: filepath.Join(t.TempDir(), "no-trial"), Library: "lib.so", Timeout: time.Second}
	small := "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n"
	if _, err := compile(t, small, backends.ScriptOptions{Device: "CPU"}); err == nil || !strings.Contains(err.Error(), "ERR TORCH script could not be tried") {
		t.Errorf("a client's script: %v, want the missing program's error", err)
	}
	if _, err := compile(t, small, backends.ScriptOptions{Device: "CPU", Trusted: true}); err != nil {
		t.Errorf("a trusted script: %v, want no trial", err)
	}
}

func TestScriptDevices(t *testing.T) {
	for _, dev := range []string{"bad", "GPU:x"} {
		if _, err := compile(t, legacySource, backends.ScriptOptions{Device: dev}); err == nil || err.Error() != "ERR unsupported device" {
			t.Errorf("device %s: %v", dev, err)
		}
	}
	if _, err := compile(t, legacySource, backends.ScriptOptions{Device: "cpu:1"}); err != nil {
		t.Fatal(err)
	}
	if cudaAvailable() {
		s, err := compile(t, legacySource, backends.ScriptOptions{Device: "GPU"})
		if err != nil {
			t.Fatal(err)
		}
		a := floats(t, []int64{2}, 1, 2)
		got, err := s.Run(context.Background(), "pair", []tensor.Tensor{a, a}, nil, nil, 2)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkOutputs(got, []tensorJSON{want("FLOAT", []int64{2}, 2, 4), want("FLOAT", []int64{2}, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := compile(t, legacySource, backends.ScriptOptions{Device: "GPU:0"}); err == nil || err.Error() != "GPU requested but Torch couldn't find CUDA" {
		t.Errorf("GPU without CUDA: %v", err)
	}
}

func TestScriptRunErrors(t *testing.T) {
	s := newScript(t, entrySource+legacySource, "bar", "svd")
	a := floats(t, []int64{2, 2}, 1, 2, 3, 4)
	str, err := tensor.Zeros(tensor.String, []int64{2}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer str.Release()
	cases := []struct {
		name     string
		fn       string
		inputs   []tensor.Tensor
		nOutputs int
		want     string // the whole error, or its start when it ends with "..."
	}{
		{"no function", "nope", []tensor.Tensor{a}, 1, "Function does not exist: nope"},
		{"empty name", "", []tensor.Tensor{a}, 1, "Function does not exist: "},
		{"too few inputs", "add", []tensor.Tensor{a}, 1, "Wrong number of inputs provided to function: add"},
		{"int parameter", "takes_int", []tensor.Tensor{a, a}, 1, "Unsupported input type in function definition: takes_int"},
		{"list not last", "list_not_last", []tensor.Tensor{a, a}, 1, "Unsupported input type in function definition: list_not_last"},
		{"too many outputs", "add", []tensor.Tensor{a, a}, 2, "Function returned unexpected number of outputs - add"},
		{"too few outputs", "pair", []tensor.Tensor{a, a}, 1, "Function returned unexpected number of outputs - pair"},
		{"entry point outputs", "svd", []tensor.Tensor{a}, 2, "Function returned unexpected number of outputs - svd"},
		{"int result", "returns_int", []tensor.Tensor{a}, 1, "Function returned non-tensor valuesreturns_int"},
		{"mixed tuple", "returns_mixed", []tensor.Tensor{a}, 2, "Function returned non-tensor valuesreturns_mixed"},
		{"None", "returns_none", []tensor.Tensor{a}, 1, "Function returned non-tensor valuesreturns_none"},
		{"raise", "raises", []tensor.Tensor{a}, 1, "..."},
		{"shapes", "bad_shapes", []tensor.Tensor{floats(t, []int64{2, 3}, 1, 2, 3, 4, 5, 6), a}, 1, "RuntimeError: mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x2) "},
		{"entry point input", "bar", []tensor.Tensor{a}, 1, "..."},
		{"string tensor", "add", []tensor.Tensor{a, str}, 1, "Unsupported code 7"},
		{"no tensor", "add", []tensor.Tensor{a, {}}, 1, "ERR Torch input 1: no tensor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Run(context.Background(), c.fn, c.inputs, nil, nil, c.nOutputs)
			if got != nil {
				releaseAll(got)
				t.Fatalf("outputs with error %v", err)
			}
			checkOneLine(t, err)
			if prefix, ok := strings.CutSuffix(c.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("got %q, want %q...", err, prefix)
				}
			} else if err.Error() != c.want {
				t.Fatalf("got %q\nwant %q", err, c.want)
			}
		})
	}
	// The exception's text reaches the caller; a negative sum passes.
	if _, err := s.Run(context.Background(), "raises", []tensor.Tensor{a}, nil, nil, 1); err == nil || !strings.Contains(err.Error(), "the sum is positive") {
		t.Fatalf("raise: %v", err)
	}
	got, err := s.Run(context.Background(), "raises", []tensor.Tensor{floats(t, []int64{1}, -1)}, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	releaseAll(got)
	// Returns ignored with no outputs: an int, None.
	for _, fn := range []string{"returns_int", "returns_none"} {
		if got, err := s.Run(context.Background(), fn, []tensor.Tensor{a}, nil, nil, 0); err != nil || len(got) != 0 {
			t.Fatalf("%s with no outputs: %v %v", fn, got, err)
		}
	}
}

func TestScriptParallel(t *testing.T) {
	s := newScript(t, entrySource+legacySource, "bar", "scale")
	a := floats(t, []int64{2, 2}, 1, 2, 3, 4)
	b := floats(t, []int64{2, 2}, 10, 20, 30, 40)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				var got []tensor.Tensor
				var err error
				var w []tensorJSON
				switch (g + i) % 3 {
				case 0:
					got, err = s.Run(context.Background(), "bar", []tensor.Tensor{a, b}, nil, nil, 1)
					w = []tensorJSON{want("FLOAT", []int64{2, 2}, 11, 22, 33, 44)}
				case 1:
					got, err = s.Run(context.Background(), "scale", []tensor.Tensor{a}, nil, []string{fmt.Sprint(i)}, 1)
					w = []tensorJSON{want("FLOAT", []int64{2, 2}, float64(2*i), float64(4*i), float64(6*i), float64(8*i))}
				case 2:
					got, err = s.Run(context.Background(), "pair", []tensor.Tensor{a, b}, nil, nil, 2)
					w = []tensorJSON{want("FLOAT", []int64{2, 2}, 11, 22, 33, 44), want("FLOAT", []int64{2, 2}, -9, -18, -27, -36)}
				}
				if err == nil {
					err = checkOutputs(got, w)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestScriptClose(t *testing.T) {
	s, err := compile(t, legacySource, backends.ScriptOptions{Device: "CPU"})
	if err != nil {
		t.Fatal(err)
	}
	a := floats(t, []int64{2}, 1, 2)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				got, err := s.Run(context.Background(), "add", []tensor.Tensor{a, a}, nil, nil, 1)
				if err == nil {
					err = checkOutputs(got, []tensorJSON{want("FLOAT", []int64{2}, 2, 4)})
				} else if errors.Is(err, errScriptClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(time.Millisecond)
	s.Close()
	wg.Wait()
	if _, err := s.Run(context.Background(), "add", []tensor.Tensor{a, a}, nil, nil, 1); !errors.Is(err, errScriptClosed) {
		t.Fatalf("run after Close: %v", err)
	}
	s.Close() // twice is harmless
}

// The Redis extension, with fake callbacks standing in for the module's.

const redisSource = `
def set_get(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])
    v = redis.execute("GET", keys[0])
    return torch.tensor(int(str(v)))

def set_list_form(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", [keys[0], args[0]])

def ping(tensors: List[Tensor], keys: List[str], args: List[str]):
    return torch.tensor(len(str(redis.execute("PING"))))

def incr(tensors: List[Tensor], keys: List[str], args: List[str]):
    r = redis.execute("INCRBY", keys[0], args[0])
    assert isinstance(r, int)
    return torch.tensor(r)

def lrange(tensors: List[Tensor], keys: List[str], args: List[str]):
    values = redis.asList(redis.execute("LRANGE", keys[0], "0", "-1"))
    l = [torch.tensor(int(str(v))).reshape(1, 1) for v in values]
    return torch.cat(l, dim=0)

def nested(tensors: List[Tensor], keys: List[str], args: List[str]):
    outer = redis.asList(redis.execute("NESTED", keys))
    inner = redis.asList(outer[1])
    n = 0
    if str(outer[0]) == "None":
        n = n + 100
    return torch.tensor([n, len(outer), len(inner), int(str(inner[0])), int(str(outer[2]))])

def missing(tensors: List[Tensor], keys: List[str], args: List[str]):
    v = redis.execute("GET", keys[0])
    if isinstance(v, str):
        return torch.tensor(1)
    return torch.tensor(0)

def fails(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("HGET", keys[0])

def run_model(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = tensors[0] * 2
    outs = redisAI.model_execute(keys[0], [a, tensors[1]], 2)
    return outs[0] + 1, outs[1]
`

// fakeRedis is a dictionary that answers the few commands redisSource sends.
type fakeRedis struct {
	mu    sync.Mutex
	kv    map[string]string
	calls []string
}

func (f *fakeRedis) execute(_ context.Context, cmd string, args []string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, cmd+" "+strings.Join(args, " "))
	switch cmd {
	case "SET":
		if len(args) != 2 {
			return nil, errors.New("ERR wrong number of arguments for 'set' command")
		}
		f.kv[args[0]] = args[1]
		return "OK", nil
	case "GET":
		if v, ok := f.kv[args[0]]; ok {
			return []byte(v), nil
		}
		return nil, nil
	case "INCRBY":
		var n, by int64
		fmt.Sscan(f.kv[args[0]], &n)
		fmt.Sscan(args[1], &by)
		n += by
		f.kv[args[0]] = fmt.Sprint(n)
		return n, nil
	case "LRANGE":
		return []any{"1", []byte("2"), "3"}, nil
	case "NESTED":
		return []any{nil, []string{"7", "8"}, int64(5)}, nil
	case "PING":
		return "PONG", nil
	case "HGET":
		return nil, errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")
	}
	return nil, fmt.Errorf("ERR unknown command '%s'", cmd)
}

// modelExecute stands in for a model that gives (x + y, x * y).
func modelExecute(_ context.Context, key string, inputs []tensor.Tensor, nOutputs int) ([]tensor.Tensor, error) {
	if key != "m" {
		return nil, errors.New("ERR model key is empty")
	}
	if len(inputs) != 2 || nOutputs != 2 {
		return nil, fmt.Errorf("want 2 inputs and 2 outputs, got %d and %d", len(inputs), nOutputs)
	}
	x, y := inputs[0], inputs[1]
	var outs []tensor.Tensor
	for _, op := range []func(a, b float64) float64{
		func(a, b float64) float64 { return a + b },
		func(a, b float64) float64 { return a * b },
	} {
		o, err := tensor.Zeros(tensor.Float, x.Shape(), 1<<20)
		if err != nil {
			return nil, err
		}
		d := o.Data()
		for i := range x.Len() {
			v := math.Float32bits(float32(op(x.Float(i), y.Float(i))))
			d[4*i], d[4*i+1], d[4*i+2], d[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		outs = append(outs, o)
	}
	return outs, nil
}

func TestScriptRedis(t *testing.T) {
	s := newScript(t, redisSource, "set_get", "set_list_form", "ping", "incr", "lrange", "nested", "missing", "fails", "run_model")
	fake := &fakeRedis{kv: map[string]string{}}
	SetRedisCallbacks(fake.execute, modelExecute)
	t.Cleanup(func() { SetRedisCallbacks(nil, nil) })

	run := func(fn string, inputs []tensor.Tensor, keys, args []string, n int) []tensor.Tensor {
		t.Helper()
		got, err := s.Run(context.Background(), fn, inputs, keys, args, n)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		return got
	}
	check := func(got []tensor.Tensor, w ...tensorJSON) {
		t.Helper()
		if err := checkOutputs(got, w); err != nil {
			t.Fatal(err)
		}
	}

	check(run("set_get", nil, []string{"x"}, []string{"41"}, 1), want("INT64", nil, 41))
	run("set_list_form", nil, []string{"k\x00bin"}, []string{"v"}, 0)
	if fake.kv["k\x00bin"] != "v" {
		t.Fatalf("list form: %q", fake.kv)
	}
	check(run("ping", nil, nil, nil, 1), want("INT64", nil, 4))
	// 64-bit integers (RedisAI 1.2.7 truncated them to 32 bits).
	check(run("incr", nil, []string{"n"}, []string{"5000000000"}, 1), want("INT64", nil, 5000000000))
	check(run("lrange", nil, []string{"l"}, nil, 1), want("INT64", []int64{3, 1}, 1, 2, 3))
	check(run("nested", nil, []string{"a", "b"}, nil, 1), want("INT64", []int64{5}, 100, 3, 2, 7, 5))
	// A nil reply is None (TorchScript's "is None" is always False for an Any).
	check(run("missing", nil, []string{"nope"}, nil, 1), want("INT64", nil, 0))
	check(run("missing", nil, []string{"x"}, nil, 1), want("INT64", nil, 1))
	if got := fake.calls[len(fake.calls)-3]; got != "NESTED a b" {
		t.Fatalf("calls %q", fake.calls)
	}

	_, err := s.Run(context.Background(), "fails", nil, []string{"h"}, nil, 0)
	checkOneLine(t, err)
	if !strings.Contains(err.Error(), "Redis command returned an error: WRONGTYPE Operation against a key holding the wrong kind of value") {
		t.Fatalf("error reply: %v", err)
	}

	a := floats(t, []int64{2}, 1, 2)
	b := floats(t, []int64{2}, 10, 20)
	// model_execute(2a, b) = (2a + b, 2a * b); the script adds 1 to the first.
	check(run("run_model", []tensor.Tensor{a, b}, []string{"m"}, nil, 2),
		want("FLOAT", []int64{2}, 13, 25), want("FLOAT", []int64{2}, 20, 80))
	_, err = s.Run(context.Background(), "run_model", []tensor.Tensor{a, b}, []string{"other"}, nil, 2)
	checkOneLine(t, err)
	if !strings.Contains(err.Error(), "ERR model key is empty") {
		t.Fatalf("model error: %v", err)
	}

	// Many at once: the outputs that model_execute gives are released by whichever thread frees them.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				got, err := s.Run(context.Background(), "run_model", []tensor.Tensor{a, b}, []string{"m"}, nil, 2)
				if err == nil {
					err = checkOutputs(got, []tensorJSON{want("FLOAT", []int64{2}, 13, 25), want("FLOAT", []int64{2}, 20, 80)})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Without callbacks the builtins fail cleanly.
	SetRedisCallbacks(nil, nil)
	for _, fn := range []string{"set_get", "run_model"} {
		_, err := s.Run(context.Background(), fn, []tensor.Tensor{a, b}, []string{"m"}, []string{"1"}, 1)
		checkOneLine(t, err)
		if !strings.Contains(err.Error(), "is not available") {
			t.Fatalf("%s without callbacks: %v", fn, err)
		}
	}
}

// The Redis callbacks get the context the script's Run was given: the module's callbacks act for
// the user who ran the script.
func TestScriptRedisContext(t *testing.T) {
	s := newScript(t, redisSource, "set_get", "run_model")
	type callerKey struct{}
	var got []any
	SetRedisCallbacks(func(ctx context.Context, cmd string, _ []string) (any, error) {
		got = append(got, ctx.Value(callerKey{}))
		if cmd == "GET" {
			return "1", nil
		}
		return "OK", nil
	}, func(ctx context.Context, _ string, _ []tensor.Tensor, _ int) ([]tensor.Tensor, error) {
		got = append(got, ctx.Value(callerKey{}))
		return nil, errors.New("no model")
	})
	t.Cleanup(func() { SetRedisCallbacks(nil, nil) })
	a := floats(t, []int64{2}, 1, 2)
	ctx := context.WithValue(context.Background(), callerKey{}, "alice")
	if _, err := s.Run(ctx, "set_get", nil, []string{"k"}, []string{"1"}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.WithValue(ctx, callerKey{}, "bob"), "run_model", []tensor.Tensor{a, a}, []string{"m"}, nil, 2); err == nil {
		t.Fatal("run_model: want the callback's error")
	}
	if want := []any{"alice", "alice", "bob"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("callbacks got callers %v, want %v", got, want)
	}
}

// A callback that panics fails the script instead of crashing through libtorch.
func TestScriptRedisPanic(t *testing.T) {
	s := newScript(t, redisSource, "set_get", "run_model")
	SetRedisCallbacks(func(context.Context, string, []string) (any, error) { panic("boom") },
		func(context.Context, string, []tensor.Tensor, int) ([]tensor.Tensor, error) { panic("bang") })
	t.Cleanup(func() { SetRedisCallbacks(nil, nil) })
	a := floats(t, []int64{2}, 1, 2)
	for fn, text := range map[string]string{"set_get": "boom", "run_model": "bang"} {
		_, err := s.Run(context.Background(), fn, []tensor.Tensor{a, a}, []string{"m"}, []string{"1"}, 1)
		checkOneLine(t, err)
		if !strings.Contains(err.Error(), text) {
			t.Fatalf("%s: %v", fn, err)
		}
	}
	// Replies the extension cannot give to TorchScript.
	SetRedisCallbacks(func(context.Context, string, []string) (any, error) { return struct{}{}, nil }, nil)
	_, err := s.Run(context.Background(), "set_get", nil, []string{"k"}, []string{"1"}, 1)
	checkOneLine(t, err)
	if !strings.Contains(err.Error(), "unsupported reply type struct {}") {
		t.Fatal(err)
	}
}

// TestInputsNotWritten: code that writes into its inputs (add_, an out= variant, through a view, a training
// batch_norm's running statistics) is given
// copies: the inputs are the stored tensors' memory, which it changed under the key (and under the keys
// COPY shares the tensor with, and not on the replicas), run after run.
func TestInputsNotWritten(t *testing.T) {
	const src = "def in_place(tensors: List[Tensor], keys: List[str], args: List[str]):\n" +
		"    return tensors[0].add_(1)\n" +
		"def through_view(tensors: List[Tensor], keys: List[str], args: List[str]):\n" +
		"    tensors[0][0].mul_(10)\n    return tensors[0]\n" +
		"def out_variant(tensors: List[Tensor], keys: List[str], args: List[str]):\n" +
		"    return torch.add(tensors[0], 1.0, out=tensors[1])\n" +
		"def legacy(a, b):\n    a.sub_(b)\n    return a\n"
	// A script of its own: the others' writes make the whole script's runs take copies. batch_norm's schema
	// does not say it writes its running statistics.
	const stats = "def running_stats(tensors: List[Tensor], keys: List[str], args: List[str]):\n" +
		"    x = torch.stack([tensors[0], tensors[0] * 2])\n" +
		"    y = torch.batch_norm(x, None, None, tensors[1], tensors[1], True, 1.0, 1e-5, False)\n" +
		"    return y.sum() * 0 + tensors[0]\n"
	writers, statsScript := newScript(t, src, "in_place", "through_view", "out_variant"), newScript(t, stats, "running_stats")
	for _, c := range []struct {
		s    backends.Script
		fn   string
		want tensorJSON
	}{
		{writers, "in_place", want("FLOAT", []int64{2}, 2, 3)},
		{writers, "through_view", want("FLOAT", []int64{2}, 10, 2)},
		{writers, "out_variant", want("FLOAT", []int64{2}, 2, 3)},
		{writers, "legacy", want("FLOAT", []int64{2}, -9, -18)},
		{statsScript, "running_stats", want("FLOAT", []int64{2}, 1, 2)},
	} {
		a, b := floats(t, []int64{2}, 1, 2), floats(t, []int64{2}, 10, 20)
		for run := 0; run < 2; run++ {
			got, err := c.s.Run(context.Background(), c.fn, []tensor.Tensor{a, b}, nil, nil, 1)
			if err != nil {
				t.Fatalf("%s: %v", c.fn, err)
			}
			if err := checkOutputs(got, []tensorJSON{c.want}); err != nil {
				t.Fatalf("%s, run %d: %v", c.fn, run, err)
			}
		}
		if got := []float64{a.Float(0), a.Float(1), b.Float(0), b.Float(1)}; fmt.Sprint(got) != "[1 2 10 20]" {
			t.Errorf("%s changed its inputs to %v, from [1 2 10 20]", c.fn, got)
		}
	}

	// A model (testdata/torch2/add_in_place.pt: x.add_(1), then x * 2).
	spec, blob := testModel(t, torch2+"add_in_place")
	m := newModel(t, blob, backends.ModelOptions{})
	in := inputsOf(t, spec)
	for run := 0; run < 2; run++ {
		got, err := m.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkOutputs(got, spec.Outputs); err != nil {
			t.Fatalf("add_in_place, run %d: %v", run, err)
		}
	}
	if got := []float64{in[0].Float(0), in[0].Float(1)}; fmt.Sprint(got) != "[1 2]" {
		t.Errorf("add_in_place changed its input to %v, from [1 2]", got)
	}
}

// TestAttentionChecksItsLengths: scaled_dot_product_attention on keys and values of different lengths
// fails (the CPU kernel it picked read past the values: heap memory in the output, found by a hunt), in a
// script and in a model (testdata/torch2/attention.pt, whose outputs TestModels compares), and answers
// on equal ones: every call is made through checkedAttention (torch_shim.cpp).
func TestAttentionChecksItsLengths(t *testing.T) {
	s := newScript(t, "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n"+
		"    return torch.scaled_dot_product_attention(tensors[0], tensors[1], tensors[2])\n", "f")
	ones := func(shape ...int64) tensor.Tensor {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = 1
		}
		return floats(t, shape, vs...)
	}
	q, k, v := ones(1, 1, 4, 2), ones(1, 1, 64, 2), floats(t, []int64{1, 1, 2, 2}, 1, 2, 3, 4)
	_, err := s.Run(context.Background(), "f", []tensor.Tensor{q, k, v}, nil, nil, 1)
	if want := "the keys' length, 64, is not the values', 2"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("keys of 64 and values of 2: %v, want %q", err, want)
	}
	// Equal lengths: uniform attention, each row the mean of the values' rows.
	got, err := s.Run(context.Background(), "f", []tensor.Tensor{q, ones(1, 1, 2, 2), v}, nil, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOutputs(got, []tensorJSON{want("FLOAT", []int64{1, 1, 4, 2}, 2, 3, 2, 3, 2, 3, 2, 3)}); err != nil {
		t.Error(err)
	}
}
