package tests

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

// nestSource runs its ARGS as a command, through redis.execute.
const nestSource = `def run_args(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redis.execute(args[0], args[1:])
`

// TestCommandStorm sends thousands of commands made by mutating valid ones (tokens replaced,
// dropped, repeated, inserted; numbers at their limits; binary junk) to a server holding
// models of every backend, scripts and tensors, each also as a script's redis.execute runs it. Whatever the replies, the server must stay up and
// no handler may panic (a recovered panic is logged, and is a bug).
func TestCommandStorm(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	c.SetTimeout(60 * time.Second)
	mnist := redisaiFixture(t, "mnist.onnx")
	graph := redisaiFixture(t, "graph.pb")
	iris := redisaiFixture(t, "linear_iris.onnx")
	cnn := testModel(t, "cnn.pt")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expectOK(t, c, storeArgs("g", "TF", "CPU", graph, "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c")...)
	expectOK(t, c, storeArgs("cnn", "TORCH", "CPU", cnn)...)
	expectOK(t, c, scriptStoreArgs("sc", "CPU", nil, scEntryPoints, scEntrySource)...)
	expectOK(t, c, "AI.SCRIPTSET", "l", "CPU", "SOURCE", scLegacySource)
	// A script that runs its ARGS as a command: gorai's commands called back from a script's thread.
	expectOK(t, c, scriptStoreArgs("nest", "CPU", nil, []string{"run_args"}, nestSource)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, "AI.TENSORSET", "a", "FLOAT", 2, 2, "VALUES", 1, 2, 3, 4)
	expectOK(t, c, "AI.TENSORSET", "b", "FLOAT", 2, 2, "VALUES", 5, 6, 7, 8)
	expectOK(t, c, "AI.TENSORSET", "img", "FLOAT", 1, 1, 28, 28)
	expectOK(t, c, "SET", "str", "x")

	templates := [][]any{
		{"AI.TENSORSET", "t", "FLOAT", 2, 2, "VALUES", 1, 2, 3, 4},
		{"AI.TENSORSET", "t8", "INT8", 4, "BLOB", "\x01\x02\x03\x04"},
		{"AI.TENSORSET", "s", "STRING", 2, "VALUES", "a", "b"},
		{"AI.TENSORSET", "bo", "BOOL", 2, "BLOB", "\x00\x01"},
		{"AI.TENSORGET", "a", "META", "BLOB"},
		{"AI.TENSORGET", "s", "VALUES"},
		{"AI.MODELSTORE", "m2", "ONNX", "CPU", "TAG", "v", "BATCHSIZE", 2, "MINBATCHSIZE", 1, "MINBATCHTIMEOUT", 5, "BLOB", iris},
		{"AI.MODELSTORE", "g2", "TF", "CPU", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c", "BLOB", graph},
		{"AI.MODELSET", "g3", "TF", "CPU", "INPUTS", "a", "b", "OUTPUTS", "c", "BLOB", graph},
		{"AI.MODELEXECUTE", "m", "INPUTS", 1, "in", "OUTPUTS", 1, "out", "TIMEOUT", 1000},
		{"AI.MODELEXECUTE", "g", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c"},
		{"AI.MODELEXECUTE", "cnn", "INPUTS", 1, "img", "OUTPUTS", 1, "cout"},
		{"AI.MODELRUN", "g", "INPUTS", "a", "b", "OUTPUTS", "c"},
		{"AI.MODELGET", "m", "META", "BLOB"},
		{"AI.MODELDEL", "m2"},
		{"AI.SCRIPTSTORE", "sc2", "CPU", "TAG", "x", "ENTRY_POINTS", 2, "scale", "add", "SOURCE", scEntrySource},
		{"AI.SCRIPTEXECUTE", "sc", "scale", "KEYS", 1, "a", "INPUTS", 1, "a", "ARGS", 1, "2", "OUTPUTS", 1, "o"},
		{"AI.SCRIPTEXECUTE", "sc", "add", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "o2"},
		{"AI.SCRIPTRUN", "l", "one_to_one", "INPUTS", "a", "OUTPUTS", "o3"},
		{"AI.SCRIPTRUN", "l", "two_to_one", "INPUTS", "a", "b", "OUTPUTS", "o4"},
		{"AI.SCRIPTSET", "l2", "CPU", "SOURCE", scLegacySource},
		{"AI.SCRIPTGET", "sc", "META", "SOURCE"},
		{"AI.SCRIPTDEL", "sc2"},
		{"AI.DAGEXECUTE", "LOAD", 1, "in", "PERSIST", 1, "dout", "|>", "AI.MODELEXECUTE", "m", "INPUTS", 1, "in", "OUTPUTS", 1, "dout", "|>", "AI.TENSORGET", "dout", "META"},
		{"AI.DAGEXECUTE_RO", "LOAD", 2, "a", "b", "|>", "AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1, "|>", "AI.SCRIPTEXECUTE", "sc", "add", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "y", "|>", "AI.TENSORGET", "y", "VALUES"},
		{"AI.DAGRUN", "LOAD", 2, "a", "b", "PERSIST", 1, "c", "|>", "AI.MODELRUN", "g", "INPUTS", "a", "b", "OUTPUTS", "c"},
		{"AI.INFO", "m", "RESETSTAT"},
		{"AI.INFO", "sc"},
		{"AI.CONFIG", "GET", "MODEL_CHUNK_SIZE"},
		{"AI.CONFIG", "MODEL_CHUNK_SIZE", 1000},
		{"AI._MODELSCAN"},
		{"AI._SCRIPTSCAN"},
	}
	// Each template again as what a script runs through redis.execute.
	for _, tpl := range templates[:len(templates):len(templates)] {
		templates = append(templates, append([]any{"AI.SCRIPTEXECUTE", "nest", "run_args", "KEYS", 1, "a", "ARGS", len(tpl)}, tpl...))
	}
	vocab := []string{"0", "1", "-1", "2", "3", "28", "100", "-100", "99999999999999999999", "9223372036854775807",
		"-9223372036854775808", "4294967296", "1e10", "nan", "inf", "-inf", "0.5", "", "\x00", "|>", "INPUTS",
		"OUTPUTS", "KEYS", "ARGS", "BLOB", "VALUES", "META", "SOURCE", "TIMEOUT", "LOAD", "PERSIST", "ROUTING",
		"TAG", "BATCHSIZE", "MINBATCHSIZE", "MINBATCHTIMEOUT", "ENTRY_POINTS", "FLOAT", "DOUBLE", "INT8",
		"INT16", "INT32", "INT64", "UINT8", "UINT16", "BOOL", "STRING", "CPU", "GPU", "GPU:0", "CPU:1",
		"ONNX", "TORCH", "TF", "TFLITE", "AI.TENSORSET", "AI.TENSORGET", "AI.MODELEXECUTE", "AI.SCRIPTEXECUTE",
		"BACKENDSPATH", "LOADBACKEND",
		"m", "g", "cnn", "sc", "l", "a", "b", "in", "out", "str", "img", "t", "s", "scale", "add", "boom",
		"svd", "not_tensor", "nothing"}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	junk := func() string {
		b := make([]byte, rng.Intn(24))
		rng.Read(b)
		return string(b)
	}
	token := func() any {
		if rng.Intn(8) == 0 {
			return junk()
		}
		return vocab[rng.Intn(len(vocab))]
	}
	mutate := func(cmd []any) []any {
		// A store keeps its key: storing over m, say, a model that waits for ever for a batch
		// (MINBATCHSIZE without MINBATCHTIMEOUT, as in RedisAI) would hang the storm's own runs.
		first := 1
		if name := cmd[0].(string); strings.HasSuffix(name, "STORE") || strings.HasSuffix(name, "SET") && name != "AI.TENSORSET" {
			first = 2
		}
		cmd = append([]any(nil), cmd...)
		for n := rng.Intn(4); n > 0 && len(cmd) > first; n-- {
			i := first + rng.Intn(len(cmd)-first)
			switch rng.Intn(5) {
			case 0:
				cmd[i] = token()
			case 1:
				cmd = append(cmd[:i], cmd[i+1:]...)
			case 2:
				cmd = append(cmd[:i+1], cmd[i:]...)
			case 3:
				cmd = append(cmd[:i], append([]any{token()}, cmd[i:]...)...)
			case 4:
				cmd = cmd[:i]
			}
		}
		return cmd
	}

	const commands, pipeline = 4000, 16
	seed := rng.Int63()
	rng.Seed(seed)
	for sent := 0; sent < commands; sent += pipeline {
		batch := make([][]any, pipeline)
		for i := range batch {
			batch[i] = mutate(templates[rng.Intn(len(templates))])
		}
		if _, err := c.Pipeline(batch...); err != nil {
			t.Fatalf("seed %d: after %d commands (last batch %v): %v\nserver log:\n%s", seed, sent, batch, err, s.LogTail(40))
		}
	}
	expectPing(t, c)
	if log := s.Log(); strings.Contains(log, "panic") {
		t.Fatalf("seed %d: a handler panicked:\n%s", seed, s.LogTail(60))
	}
}
