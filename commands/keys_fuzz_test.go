package commands

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"gorai/exec"
)

// The fuzzers here hold the commands whose key positions a Keys function finds apart from their
// parser (the getkeys-api commands; Redis' ACL and cluster checks use nothing else) to what their
// handlers do: AI.MODELRUN m1 INPUTS t1 OUTPUTS OUTPUTS wrote key OUTPUTS, which ModelRunKeys did
// not report. Their arguments are words of keysVocab, so that the handlers accept many of them;
// free text (FuzzModelExecuteArgs and the like) seldom gets past the parsers.

// keysVocab: keywords in mixed case, counts, the fixtures' keys (dagFixture: tensors t1 and t2;
// models m with 2 inputs and 1 output, m1 1/1, m22 2/2; scripts sc with entry points bar and baz,
// and old; s of another type), names that hold nothing, and a DAG's op names and tensor words.
var keysVocab = strings.Fields(`
	INPUTS inputs Inputs OUTPUTS outputs Outputs KEYS keys Keys ARGS args Args TIMEOUT timeout
	LOAD load PERSIST persist ROUTING routing |> $ 0 1 2 3 -1 5 9223372036854775807
	m m1 m22 sc old bar baz foo t1 t2 s o p
	AI.MODELEXECUTE ai.modelexecute AI.MODELRUN Ai.ModelRun AI.SCRIPTEXECUTE ai.scriptexecute
	AI.SCRIPTRUN ai.scriptrun AI.TENSORSET AI.TENSORGET INT8 VALUES META BLOB`)

// The commands each fuzzer runs, in the case a client may type them (Redis hands the handler and
// the Keys function the name as typed).
var (
	modelKeysCommands  = []string{"AI.MODELEXECUTE", "ai.modelexecute", "AI.MODELRUN", "Ai.ModelRun"}
	scriptKeysCommands = []string{"AI.SCRIPTEXECUTE", "ai.scriptexecute", "AI.SCRIPTRUN", "ai.ScriptRun"}
	dagKeysCommands    = []string{"AI.DAGEXECUTE", "ai.dagexecute", "AI.DAGEXECUTE_RO", "ai.dagexecute_ro",
		"AI.DAGRUN", "Ai.DagRun", "AI.DAGRUN_RO", "ai.dagrun_ro"}
)

// Every command with a Keys function is fuzzed: one added later is not left out unseen.
func TestKeysFuzzersCoverKeyedCommands(t *testing.T) {
	fuzzed := slices.Concat(modelKeysCommands, scriptKeysCommands, dagKeysCommands)
	for _, c := range Commands {
		if c.Keys != nil && !slices.ContainsFunc(fuzzed, func(n string) bool { return strings.EqualFold(n, c.Name) }) {
			t.Errorf("%s has a Keys function but no key fuzzer runs it", c.Name)
		}
	}
}

// addKeysSeeds adds each line of seeds ("COMMAND word...") as a seed: the command's index in
// names and the words' indices in keysVocab.
func addKeysSeeds(f *testing.F, names []string, seeds string) {
	for _, line := range strings.Split(strings.TrimSpace(seeds), "\n") {
		fields := strings.Fields(line)
		cmd := slices.Index(names, fields[0])
		if cmd < 0 {
			f.Fatalf("seed %q: no command %s", line, fields[0])
		}
		var words []byte
		for _, w := range fields[1:] {
			i := slices.Index(keysVocab, w)
			if i < 0 {
				f.Fatalf("seed %q: %q is not in keysVocab", line, w)
			}
			words = append(words, byte(i))
		}
		f.Add(byte(cmd), words)
	}
}

// fuzzKeys runs names[cmd] on words (indices in keysVocab) against ks and rt, a runtime that takes
// every run, and checks the command's Keys function against the handler: every key it looked up,
// accepted or not, is reported read (reported written only, it would be checked for writing alone,
// and a user who may only write could read it); once accepted, every key its run writes is reported
// written and every script's KEYS read (the script's calls on them are checked as it makes them),
// and every key reported is one the run uses as reported (a word taken for a key refuses a user,
// NOPERM, or a cluster command, CROSSSLOT, for nothing).
func fuzzKeys(t *testing.T, ks *fakeKeyspace, rt *fakeRuntime, names []string, cmd byte, words []byte) {
	t.Helper()
	a := [][]byte{[]byte(names[int(cmd)%len(names)])}
	for _, w := range words {
		a = append(a, []byte(keysVocab[int(w)%len(keysVocab)]))
	}
	c := Lookup(string(a[0]))
	keys := c.Keys(a)
	checkKeys(t, c.Name, a, keys)
	what := string(bytes.Join(a, []byte(" ")))
	ks.read, rt.plans, rt.dags = nil, nil, nil
	var r textReply
	err := c.Run(Env{Keys: ks, Out: &r, Runtime: rt}, a)
	checkKeysCover(t, what, a, keys, ks.read, rt.plans)
	if err != nil {
		return
	}
	if len(rt.plans) != 1 {
		t.Fatalf("%s: accepted, %d plans", what, len(rt.plans))
	}
	checkKeysUsed(t, what, a, keys, ks.read, rt.plans[0])
	rt.plans[0].Release()
}

// checkKeysUsed: each key reported read is one the parser looked up or a script's KEYS, each
// reported written one the plan persists.
func checkKeysUsed(t *testing.T, what string, a [][]byte, keys []KeyArg, read []string, plan *exec.Plan) {
	t.Helper()
	for _, op := range plan.Ops {
		read = append(read, op.Keys...)
	}
	for _, k := range keys {
		key := a[k.Pos]
		switch {
		case k.Use == KeyRead && !slices.Contains(read, string(key)):
			t.Fatalf("%s: keys %v report %q (argument %d) read, the run reads %q", what, keys, key, k.Pos, read)
		case k.Use == KeyWrite && !slices.ContainsFunc(plan.Persist, func(p exec.Persist) bool { return bytes.Equal(p.Key, key) }):
			t.Fatalf("%s: keys %v report %q (argument %d) written, the run writes %v", what, keys, key, k.Pos, plan.Persist)
		}
	}
}

// fuzzKeysTarget seeds f with the lines of seeds and fuzzes the commands names against the
// keyspace and runtime that fixture makes for each input.
func fuzzKeysTarget(f *testing.F, names []string, fixture func(*testing.T) (*fakeKeyspace, *fakeRuntime), seeds string) {
	addKeysSeeds(f, names, seeds)
	f.Fuzz(func(t *testing.T, cmd byte, words []byte) {
		ks, rt := fixture(t)
		fuzzKeys(t, ks, rt, names, cmd, words)
	})
}

// FuzzModelKeys: AI.MODELEXECUTE and AI.MODELRUN. The sixth seed is the output OUTPUTS that
// ModelRunKeys skipped.
func FuzzModelKeys(f *testing.F) {
	fuzzKeysTarget(f, modelKeysCommands, modelFixture, `
		AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 5
		ai.modelexecute m22 inputs 2 t1 t1 Outputs 2 o p
		AI.MODELEXECUTE m1 INPUTS 1 t2 OUTPUTS 1 OUTPUTS
		AI.MODELEXECUTE m1 INPUTS 1 t1 OUTPUTS 1 o timeout
		AI.MODELRUN m INPUTS t1 t2 OUTPUTS o
		AI.MODELRUN m1 INPUTS t1 OUTPUTS OUTPUTS
		Ai.ModelRun m22 timeout 5 inputs t2 t1 outputs Outputs o
		AI.MODELRUN m1 TIMEOUT 5 INPUTS t1 OUTPUTS INPUTS
		AI.MODELRUN m1 INPUTS t1 outputs`)
}

// FuzzScriptKeys: AI.SCRIPTEXECUTE and AI.SCRIPTRUN.
func FuzzScriptKeys(f *testing.F) {
	fuzzKeysTarget(f, scriptKeysCommands, scriptFixture, `
		AI.SCRIPTEXECUTE sc bar KEYS 1 s INPUTS 2 t1 t2 ARGS 1 o OUTPUTS 1 o TIMEOUT 5
		ai.scriptexecute sc baz inputs 1 t1 outputs 2 o p args 1 keys Keys 2 t2 m
		AI.SCRIPTEXECUTE sc KEYS KEYS 1 OUTPUTS OUTPUTS 1 KEYS
		AI.SCRIPTEXECUTE old foo INPUTS 0 ARGS 2 KEYS TIMEOUT Outputs 1 INPUTS
		AI.SCRIPTRUN old foo INPUTS t1 $ t2 OUTPUTS o
		ai.ScriptRun sc bar timeout 5 inputs t1 t2 outputs OUTPUTS
		AI.SCRIPTRUN sc bar INPUTS t1 TIMEOUT 5 t2 Outputs KEYS
		AI.SCRIPTRUN sc bar OUTPUTS o INPUTS t1`)
}

// FuzzDAGKeys: the four DAG commands (FuzzDAGArgs checks their plans).
func FuzzDAGKeys(f *testing.F) {
	fixture := func(t *testing.T) (*fakeKeyspace, *fakeRuntime) {
		ks, rt, _ := dagFixture(t)
		ks.maxBulk = 1 << 16 // zero-filled tensors stay small
		return ks, rt
	}
	fuzzKeysTarget(f, dagKeysCommands, fixture, `
		AI.DAGEXECUTE LOAD 2 t1 t2 PERSIST 1 o ROUTING s TIMEOUT 5 |> AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o
		ai.dagexecute routing o |> AI.TENSORSET o INT8 1 VALUES 5 |> ai.scriptexecute sc bar KEYS 2 s t1 INPUTS 1 o OUTPUTS 1 p |> AI.TENSORGET p META
		AI.DAGEXECUTE_RO load 1 t1 |> ai.modelexecute m1 inputs 1 t1 outputs 1 OUTPUTS |> AI.TENSORGET OUTPUTS BLOB
		AI.DAGEXECUTE persist 1 PERSIST |> AI.TENSORSET PERSIST INT8 1
		AI.DAGRUN PERSIST 2 o p |> AI.TENSORSET t1 INT8 1 |> AI.MODELRUN m1 INPUTS t1 OUTPUTS o |> AI.SCRIPTRUN old foo INPUTS t1 $ o OUTPUTS p
		Ai.DagRun LOAD 1 t1 |> Ai.ModelRun m22 inputs t1 t1 OUTPUTS OUTPUTS o
		AI.DAGRUN_RO ROUTING t2 |> AI.TENSORSET o INT8 1 VALUES 1 |> ai.scriptrun sc bar INPUTS o OUTPUTS p`)
}
