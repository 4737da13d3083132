package commands

import "testing"

// commit runs an offloaded build's Commit as the module's reply callback would, later, on ks.
func commit(ks *fakeKeyspace, b Built) string {
	var r textReply
	if err := b.Commit(Env{Keys: ks, Out: &r}); err != nil {
		return "-" + err.Error()
	}
	return r.String()
}

// A store is built first and stored only at its commit, where the key's type is checked then; a
// build whose client went away is dropped, and its model or script closed.
func TestStoresAreBuiltThenCommitted(t *testing.T) {
	for _, c := range []struct {
		h      Handler
		line   string
		closed func(rt *fakeRuntime) int
		stored func(ks *fakeKeyspace) bool
	}{
		{ModelStore, "AI.MODELSTORE k ONNX CPU BLOB blob", func(rt *fakeRuntime) int { return rt.sessions[len(rt.sessions)-1].closed },
			func(ks *fakeKeyspace) bool { return ks.models["k"] != nil }},
		{ScriptSet, "AI.SCRIPTSET k CPU SOURCE src", func(rt *fakeRuntime) int { return rt.compiled[len(rt.compiled)-1].closed },
			func(ks *fakeKeyspace) bool { return ks.scripts["k"] != nil }},
	} {
		ks, rt := newFakeKeyspace(), newFakeRuntime()
		rt.deferBuilds = true

		// Committed: stored, replicated, OK.
		if got := runAI(ks, rt, c.h, c.line); got != "" {
			t.Fatalf("%s: replied %q before its commit", c.line, got)
		}
		if c.stored(ks) || ks.replicated != 0 {
			t.Fatalf("%s: stored before its commit", c.line)
		}
		if got := commit(ks, rt.built[0]); got != "+OK" || !c.stored(ks) || ks.replicated != 1 {
			t.Fatalf("%s: commit replied %q, stored %v, replicated %d", c.line, got, c.stored(ks), ks.replicated)
		}

		// The key became another type meanwhile: WRONGTYPE, the new build closed.
		ks = newFakeKeyspace()
		runAI(ks, rt, c.h, c.line)
		ks.other["k"] = true
		if got := commit(ks, rt.built[1]); got != "-"+ErrWrongType.Error() || c.closed(rt) != 1 {
			t.Fatalf("%s: commit over another type replied %q, closed %d", c.line, got, c.closed(rt))
		}

		// The client went away: dropped.
		ks = newFakeKeyspace()
		runAI(ks, rt, c.h, c.line)
		rt.built[2].Drop()
		if c.stored(ks) || c.closed(rt) != 1 {
			t.Fatalf("%s: a dropped build was stored (%v) or not closed (%d)", c.line, c.stored(ks), c.closed(rt))
		}
		if rt.blobsLive != 0 {
			t.Fatalf("%s: %d model blobs not freed", c.line, rt.blobsLive)
		}
	}
}

// A model blob is freed whatever becomes of the store: built and stored (the stored model owns it),
// build failed, the key of another type, the client gone.
func TestModelBlobsAreFreed(t *testing.T) {
	ks, rt := newFakeKeyspace(), newFakeRuntime()
	runAI(ks, rt, ModelStore, "AI.MODELSTORE k ONNX CPU BLOB a b c")
	runAI(ks, rt, ModelSet, "AI.MODELSET k2 ONNX CPU BLOB abc")
	ks.other["str"] = true
	if got := runAI(ks, rt, ModelStore, "AI.MODELSTORE str ONNX CPU BLOB abc"); got != "-"+ErrWrongType.Error() {
		t.Fatalf("store over another type: %q", got)
	}
	rt.openErr = errf("ERR no")
	if got := runAI(ks, rt, ModelStore, "AI.MODELSTORE k3 ONNX CPU BLOB abc"); got != "-ERR no" {
		t.Fatalf("store with a failing build: %q", got)
	}
	rt.openErr, rt.deferBuilds = nil, true
	runAI(ks, rt, ModelStore, "AI.MODELSTORE k4 ONNX CPU BLOB abc")
	rt.built[0].Drop()
	if rt.blobsLive != 0 {
		t.Fatalf("%d model blobs not freed", rt.blobsLive)
	}
	if string(ks.models["k"].blob) != "abc" {
		t.Fatalf("stored blob %q, want the chunks joined", ks.models["k"].blob)
	}
}
