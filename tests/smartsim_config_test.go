package tests

import (
	"fmt"
	"sync"
	"testing"

	"gorai/tests/redistest"
)

// TestSmartSimServerConfiguration: the server as SmartSim starts it (its redis.conf's io-threads 4
// with threaded reads, maxclients, tcp-backlog; the module's THREADS_PER_QUEUE and op-parallelism
// arguments): 50 clients at once set their input, run mnist, the seed's CNN (TORCH) and graph.pb
// (TF) and read the outputs, which are right.
func TestSmartSimServerConfiguration(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{
		Config:     []string{"io-threads 4", "io-threads-do-reads yes", "maxclients 50000", "tcp-backlog 4096", "protected-mode no"},
		ModuleArgs: []string{"THREADS_PER_QUEUE", "4", "INTER_OP_PARALLELISM", "1", "INTRA_OP_PARALLELISM", "1"},
	})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("mnist", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	expectOK(t, c, storeArgs("graph", "TF", "CPU", redisaiFixture(t, "graph.pb"), "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c")...)
	cnn := cnnModel(t, "cnn")
	cnn.store(t, c)
	in := mnistInput(t)

	const clients, rounds = 50, 10
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		cc := s.Conn(t)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			k := func(name string) string { return fmt.Sprintf("{c%d}.%s", i, name) }
			for r := 0; r < rounds; r++ {
				expectOK(t, cc, "AI.TENSORSET", k("in"), "FLOAT", 1, 1, 28, 28, "BLOB", in)
				expectOK(t, cc, execArgs("mnist", []string{k("in")}, []string{k("out")})...)
				checkMnistOutput(t, cc, k("out"))
				expectOK(t, cc, "AI.TENSORSET", k("a"), "FLOAT", 2, "VALUES", i, 2)
				expectOK(t, cc, execArgs("graph", []string{k("a"), k("a")}, []string{k("c")})...)
				expect(t, cc, floatValues([]int64{2}, float32(i*i), 4), "AI.TENSORGET", k("c"), "META", "VALUES")
				if r%5 == 0 {
					cnn.run(t, cc, k("cnn"), fmt.Sprintf("client %d", i))
				}
			}
		}(i)
	}
	wg.Wait()
	expectPing(t, c)
}
