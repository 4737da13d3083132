package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorai/backends/onnx/onnxtest"
	"gorai/tests/resp"
)

// sendStore sends AI.MODELSTORE of the CNN on a connection of its own, without waiting for the reply.
func sendStore(t *testing.T, c *resp.Conn, key string) {
	t.Helper()
	if err := c.Send(storeArgs(key, "TORCH", "CPU", testModel(t, "cnn.pt"))...); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// blockedOn reports whether CLIENT LIST shows a client blocked in cmd.
func blockedOn(t *testing.T, c *resp.Conn, cmd string) bool {
	t.Helper()
	for _, line := range strings.Split(string(do(t, c, "CLIENT", "LIST").Str), "\n") {
		if strings.Contains(line, " cmd="+cmd+" ") && strings.Contains(line, " flags=b ") {
			return true
		}
	}
	return false
}

// A model is built off Redis' main thread: while the first TORCH store of a fresh server loads
// libtorch and the model (hundreds of milliseconds), its client waits, blocked, and the others are
// served; the model is stored, and the store replicated, when it is built.
func TestStoreBuildsOffTheMainThread(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	storer, other := s.Conn(t), s.Conn(t)
	sendStore(t, storer, "cnn")
	deadline := time.Now().Add(10 * time.Second)
	for !blockedOn(t, other, "ai.modelstore") {
		if time.Now().After(deadline) {
			t.Fatal("no client was ever seen blocked in AI.MODELSTORE: the build held up the server")
		}
	}
	if v, err := storer.Receive(); err != nil || !resp.Equal(v, resp.Simple("OK")) {
		t.Fatalf("AI.MODELSTORE: %v %v", v, err)
	}
	expect(t, other, resp.Int(1), "EXISTS", "cnn")
	cnnModel(t, "cnn").run(t, other, "after", "a model built off the main thread")
}

// A store whose client leaves before its model is built is dropped, as the client never learnt of
// it, and its model freed; the server goes on.
func TestStoreOfAGoneClientIsDropped(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	gone, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	sendStore(t, gone, "gone")
	deadline := time.Now().Add(10 * time.Second)
	for !blockedOn(t, c, "ai.modelstore") {
		if time.Now().After(deadline) {
			t.Fatal("no client was ever seen blocked in AI.MODELSTORE")
		}
	}
	gone.Close()
	// A later store of the same model waits on the same library load, so it ends after the first
	// build has (nearly) finished; then give the first up to a second to show up.
	expectOK(t, c, storeArgs("later", "TORCH", "CPU", testModel(t, "cnn.pt"))...)
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		expect(t, c, resp.Int(0), "EXISTS", "gone")
	}
	expect(t, c, resp.Arr(resp.BulkStrings("later", "")), "AI._MODELSCAN")
}

// Stores whose clients left while they waited for the trial program (one trial at a time) are not
// tried: a client that timed out and sent its store again, or many such, held up the next store behind
// every trial of the abandoned ones.
func TestAbandonedStoresAreNotTried(t *testing.T) {
	t.Parallel()
	s := startServer(t, "loglevel verbose")
	c := s.Conn(t)
	const abandoned = 12
	for i := range abandoned {
		gone, err := s.Dial()
		if err != nil {
			t.Fatal(err)
		}
		sendStore(t, gone, fmt.Sprint("gone", i))
		gone.Close()
	}
	expectOK(t, c, storeArgs("later", "TORCH", "CPU", testModel(t, "cnn.pt"))...)
	expect(t, c, resp.Arr(resp.BulkStrings("later", "")), "AI._MODELSCAN")
	const skipped = "gorai: a TORCH model was not built: its client left before it began"
	if n := strings.Count(s.Log(), skipped); n == 0 {
		t.Errorf("no abandoned store was skipped (the log says %q for each)", skipped)
	} else {
		t.Logf("%d of %d abandoned stores skipped", n, abandoned)
	}
}

// An ONNX model whose tensor keeps its bytes in a file (external data) is refused: stored from a blob, ONNX
// Runtime would read the file from Redis' working directory, where dump.rdb, the AOF and an ACL file live,
// and the model's output would hand its bytes to the client, whatever its ACL.
func TestONNXExternalDataRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	if err := os.WriteFile(filepath.Join(s.Dir(), "secret"), []byte("0123456789abcdef"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := s.Conn(t)
	const refused = "ERR ONNX models with external data (tensors kept in files beside the model) cannot be stored"
	for where, blob := range onnxtest.ExternalData("secret", 4) {
		if !expectErr(t, c, refused, storeArgs("m", "ONNX", "CPU", blob)...) {
			t.Errorf("external data in the %s was not refused", where)
		}
	}
	expectOK(t, c, "AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 0)
	expectErr(t, c, "ERR model key is empty", "AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
}
