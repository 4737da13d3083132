package commands

import (
	"errors"
	"slices"
	"testing"

	"gorai/exec"
	"gorai/tensor"
)

// countedModel is a fake model that counts the references taken to it.
type countedModel struct {
	*fakeModel
	refs int
}

func (m *countedModel) Retain()  { m.refs++ }
func (m *countedModel) Release() { m.refs-- }

func builderTensor(t *testing.T, v string) tensor.Tensor {
	t.Helper()
	x, err := tensor.FromValues(tensor.Float, []int64{1}, [][]byte{[]byte(v)})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// A DAG built by calls binds its names as AI.DAGEXECUTE does, and holds a reference to everything
// it was given until it is released.
func TestDAGBuilderPlan(t *testing.T) {
	ks, _ := modelFixture(t)
	m := &countedModel{fakeModel: ks.models["m"]}
	a, b, c := builderTensor(t, "1"), builderTensor(t, "2"), builderTensor(t, "3")
	defer a.Release()
	defer b.Release()
	defer c.Release()

	d := NewDAGBuilder()
	if !d.Load("a", a) || d.Load("a", b) {
		t.Fatal("a name must load once")
	}
	d.AddTensorSet("b", b)
	op := NewModelOp(m)
	op.AddInput("a")
	if err := d.AddOp(op); !errors.Is(err, errOpInputsCount) {
		t.Fatalf("one input of two: %v", err)
	}
	op.AddInput("b")
	if err := d.AddOp(op); !errors.Is(err, errOpOutputsCount) {
		t.Fatalf("no output of one: %v", err)
	}
	op.AddOutput("b") // overwrites b, as an op's output does in a DAG
	if err := d.AddOp(op); err != nil {
		t.Fatal(err)
	}
	d.AddTensorSet("c", c)
	d.AddTensorGet("b")
	if d.NumOps() != 4 {
		t.Fatalf("NumOps = %d, want 4", d.NumOps())
	}
	if a.RefCount() != 2 || b.RefCount() != 2 || m.refs != 1 {
		t.Fatalf("references: a %d, b %d, m %d; want 2, 2, 1", a.RefCount(), b.RefCount(), m.refs)
	}

	plan, err := d.Plan()
	if err != nil {
		t.Fatal(err)
	}
	// Slot 0: a (loaded); 1: b (TENSORSET); 2: the model's output, named b from then on; 3: c.
	wantOps := []struct {
		kind            exec.OpKind
		inputs, outputs []int
	}{
		{exec.TensorSet, nil, []int{1}},
		{exec.ModelRun, []int{0, 1}, []int{2}},
		{exec.TensorSet, nil, []int{3}},
		{exec.TensorGet, []int{2}, nil},
	}
	if plan.Slots != 4 || len(plan.Loaded) != 1 || len(plan.Ops) != len(wantOps) {
		t.Fatalf("plan: %d slots, %d loaded, %d ops", plan.Slots, len(plan.Loaded), len(plan.Ops))
	}
	for i, w := range wantOps {
		op := plan.Ops[i]
		if op.Kind != w.kind || !slices.Equal(op.Inputs, w.inputs) || !slices.Equal(op.Outputs, w.outputs) {
			t.Errorf("op %d: kind %v in %v out %v; want %v %v %v", i, op.Kind, op.Inputs, op.Outputs, w.kind, w.inputs, w.outputs)
		}
	}
	// The plan owns one more reference to each TENSORSET tensor, and a second plan binds afresh.
	if b.RefCount() != 3 {
		t.Fatalf("b's references with a plan: %d, want 3", b.RefCount())
	}
	plan.Release()
	again, err := d.Plan()
	if err != nil || !slices.Equal(again.Ops[1].Inputs, []int{0, 1}) {
		t.Fatalf("second plan: %v, %v", err, again.Ops[1].Inputs)
	}
	again.Release()

	d.Release()
	if a.RefCount() != 1 || b.RefCount() != 1 || c.RefCount() != 1 || m.refs != 0 {
		t.Fatalf("after Release: a %d, b %d, c %d, m %d; want 1, 1, 1, 0", a.RefCount(), b.RefCount(), c.RefCount(), m.refs)
	}
}

func TestDAGBuilderPlanErrors(t *testing.T) {
	d := NewDAGBuilder()
	defer d.Release()
	a := builderTensor(t, "1")
	defer a.Release()
	d.Load("a", a)
	if _, err := d.Plan(); !errors.Is(err, errDAGEmpty) {
		t.Fatalf("no op: %v", err)
	}
	d.AddTensorGet("nothing")
	if _, err := d.Plan(); !errors.Is(err, errInputNotFound) {
		t.Fatalf("an unknown name: %v", err)
	}
	if a.RefCount() != 2 {
		t.Fatalf("a failed plan kept references: %d", a.RefCount())
	}
}

// Ops parsed from a string are added all or none, with AI.DAGEXECUTE's grammar and texts.
func TestDAGBuilderAddOpsFromString(t *testing.T) {
	ks, rt, built := dagFixture(t)
	env := Env{Keys: ks, Runtime: rt}
	d := NewDAGBuilder()
	for _, c := range []struct{ ops, want string }{
		{"", "DAG op should start with: '|>' "},
		{"bad string", "DAG op should start with: '|>' "},
		{"|> AI.TENSORSET x INT8 1 VALUES 5 |> bad_op x", "Unsupported command within DAG"},
		{"|> AI.MODELEXECUTE nosuchmodel INPUTS 1 x OUTPUTS 1 y", "ERR model key is empty"},
		{"|> AI.TENSORSET x INT8 1 VALUES 5 |> AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y", "Number of keys given as INPUTS here does not match model definition"},
	} {
		if err := d.AddOpsFromString(env, c.ops); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.ops, err, c.want)
		}
	}
	if d.NumOps() != 0 {
		t.Fatalf("failed strings left %d ops", d.NumOps())
	}
	built.check(t, "after the failed strings", 0)
	if err := d.AddOpsFromString(env, "|> AI.TENSORSET x INT8 1 VALUES 5  |> AI.MODELEXECUTE m INPUTS 2 x x OUTPUTS 1 y |> AI.TENSORGET y"); err != nil {
		t.Fatal(err)
	}
	if d.NumOps() != 3 {
		t.Fatalf("%d ops, want 3", d.NumOps())
	}
	built.check(t, "held by the builder", 1)
	plan, err := d.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Ops[1]; got.Kind != exec.ModelRun || !slices.Equal(got.Inputs, []int{0, 0}) || !slices.Equal(got.Outputs, []int{1}) {
		t.Fatalf("model op: %+v", got)
	}
	plan.Release()
	d.Release()
	built.check(t, "after Release", 0)
}

// FuzzDAGBuilderOps adds ops parsed from a string to a builder holding a loaded tensor, then plans
// it: no panic, all the string's ops or none added, a well-formed plan, and every tensor the ops
// built released once the builder is.
func FuzzDAGBuilderOps(f *testing.F) {
	for _, s := range []string{
		"", "bad string", "|>", "|> AI.TENSORGET t", "|> AI.MODELEXECUTE m INPUTS 2 t t OUTPUTS 1 o |> AI.TENSORGET o",
		"|> AI.TENSORSET a INT8 2 VALUES 1 2 |> AI.SCRIPTEXECUTE sc bar INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b",
		"|> AI.TENSORSET a INT8 1 VALUES 1 |>  |> AI.TENSORGET a", "|> AI.MODELRUN m1 INPUTS t OUTPUTS o",
		"|> AI.TENSORSET a FLOAT 1000 1000 1000 |> AI.TENSORGET nope",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ops string) {
		ks, rt, built := dagFixture(t)
		ks.maxBulk = 1 << 16
		d := NewDAGBuilder()
		loaded := builderTensor(t, "1")
		defer loaded.Release()
		d.Load("t", loaded)
		err := d.AddOpsFromString(Env{Keys: ks, Runtime: rt}, ops)
		if err != nil && d.NumOps() != 0 {
			t.Fatalf("%q: %v, yet %d ops added", ops, err, d.NumOps())
		}
		if plan, err := d.Plan(); err == nil {
			checkPlan(t, ops, plan, false)
			plan.Release()
		}
		d.Release()
		built.check(t, ops, 0)
		if loaded.RefCount() != 1 {
			t.Fatalf("%q: the loaded tensor has %d references left", ops, loaded.RefCount())
		}
	})
}
