package tests

// AI.INFO key LATENCY: gorai's latency percentiles after RedisAI's 18 elements, run time and queue
// wait of the successful runs, per model and script key. Plain AI.INFO stays RedisAI's 18 elements
// (expectRunInfo), which redisai-py's own tests compare exactly.

import (
	"fmt"
	"testing"

	"gorai/tests/resp"
)

// redisAIInfoLen is the length of RedisAI's AI.INFO reply; AI.INFO key LATENCY appends latencyFields.
const redisAIInfoLen = 18

var latencyFields = [...]string{
	"duration_p50", "duration_p99", "duration_p999",
	"queue_wait_p50", "queue_wait_p99", "queue_wait_p999",
}

// infoLen is the length of AI.INFO key LATENCY's reply.
const infoLen = redisAIInfoLen + 2*len(latencyFields)

type percentiles struct{ p50, p99, p999 int64 }

// latency is what AI.INFO reports after RedisAI's fields, in microseconds.
type latency struct{ duration, queueWait percentiles }

// latencyPercentiles reads the pairs after RedisAI's fields of an AI.INFO reply: each of
// latencyFields in order, as a bulk-string name and an integer value, p50 <= p99 <= p999.
func latencyPercentiles(info resp.Value) (latency, error) {
	if info.Kind != resp.Array || len(info.Elems) != infoLen {
		return latency{}, fmt.Errorf("%v: want an array of %d elements", info, infoLen)
	}
	var values [len(latencyFields)]int64
	for i, name := range latencyFields {
		k, v := info.Elems[redisAIInfoLen+2*i], info.Elems[redisAIInfoLen+2*i+1]
		if k.Kind != resp.Bulk || k.Text() != name {
			return latency{}, fmt.Errorf("element %d is %v, want the bulk string %q", redisAIInfoLen+2*i, k, name)
		}
		if v.Kind != resp.Integer || v.Int < 0 {
			return latency{}, fmt.Errorf("%s is %v, want an integer >= 0", name, v)
		}
		values[i] = v.Int
	}
	l := latency{
		duration:  percentiles{values[0], values[1], values[2]},
		queueWait: percentiles{values[3], values[4], values[5]},
	}
	for _, p := range []percentiles{l.duration, l.queueWait} {
		if p.p50 > p.p99 || p.p99 > p.p999 {
			return latency{}, fmt.Errorf("percentiles out of order: %+v", l)
		}
	}
	return l, nil
}

// runLatency is AI.INFO key LATENCY's latency, failing the test when the reply is not as it
// should be: RedisAI's 18 elements as plain AI.INFO has them, then the pairs.
func runLatency(t *testing.T, c *resp.Conn, key string) (resp.Value, latency) {
	t.Helper()
	plain := do(t, c, "AI.INFO", key)
	info := do(t, c, "AI.INFO", key, "LATENCY")
	l, err := latencyPercentiles(info)
	if err != nil {
		t.Fatalf("AI.INFO %s LATENCY: %v", key, err)
	}
	if !resp.Equal(resp.Arr(info.Elems[:redisAIInfoLen]...), plain) {
		t.Fatalf("AI.INFO %s LATENCY begins %v, AI.INFO %s is %v", key, info.Elems[:redisAIInfoLen], key, plain)
	}
	return info, l
}

// expectNoLatency checks that key reports no run time and no queue wait.
func expectNoLatency(t *testing.T, c *resp.Conn, key string) {
	t.Helper()
	if _, l := runLatency(t, c, key); l != (latency{}) {
		t.Errorf("AI.INFO %s LATENCY: %+v, want zeros", key, l)
	}
}

// checkRunTime checks the run-time percentiles against the mean of the durations AI.INFO summed
// (fewer than 1000 runs, so p99.9 is the slowest), allowing the buckets' 1/64 of rounding: the
// median is above zero and within two orders of magnitude of the mean (it cannot exceed twice the
// mean: half the runs took at least the median; one slow first run of 20 can pull the mean to ten
// times the median), and the slowest run took at least the mean.
func checkRunTime(t *testing.T, info resp.Value, l latency) {
	t.Helper()
	mean := info.Elems[11].Int / info.Elems[15].Int
	p50, p999 := l.duration.p50, l.duration.p999
	if p50 <= 0 || p50 < mean/100 || p50 > 2*(mean+1)*65/64 || p999 < mean*63/64 {
		t.Errorf("run time %+v µs, mean %d µs", l.duration, mean)
	}
}

func TestInfoLatencyModel(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	// Never run: zeros.
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 0, 0), "m")
	expectNoLatency(t, c, "m")

	setMnistInput(t, c, "in", mnistInput(t))
	const runs = 50
	for range runs {
		expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	}
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", -1, runs, runs, 0), "m")
	info, before := runLatency(t, c, "m")
	checkRunTime(t, info, before)

	// A failed run is counted in calls and errors, not in the percentiles.
	expectOK(t, c, "AI.TENSORSET", "bad", "FLOAT", "1", "3")
	expectErrPrefix(t, c, "Invalid rank for input", execArgs("m", []string{"bad"}, []string{"out"})...)
	info, after := runLatency(t, c, "m")
	if info.Elems[15].Int != runs+1 || info.Elems[17].Int != 1 || after != before {
		t.Errorf("after a failed run: %v, percentiles before %+v", info, before)
	}

	expectOK(t, c, "AI.INFO", "m", "RESETSTAT")
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 0, 0), "m")
	expectNoLatency(t, c, "m")

	// Storing the key again starts it afresh, as the other counters.
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	expectRunInfo(t, c, runInfo("m", "ONNX", "CPU", "", 0, 0, 0, 0), "m")
	expectNoLatency(t, c, "m")
}

// A run of a model stored with MINBATCHSIZE 2 waits MINBATCHTIMEOUT on its worker for a second
// request before it runs alone: that is queue wait, at least the timeout.
func TestInfoLatencyQueueWait(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	const minBatchTimeoutMS = 100
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"),
		"BATCHSIZE", 2, "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", minBatchTimeoutMS)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	info, l := runLatency(t, c, "m")
	checkRunTime(t, info, l)
	if least := int64(minBatchTimeoutMS*1000) * 63 / 64; l.queueWait.p50 < least {
		t.Errorf("queue wait %+v µs, want at least %d", l.queueWait, least)
	}
}

func TestInfoLatencyScript(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	setScriptInputs(t, c)
	expectOK(t, c, scriptStoreArgs("s", "CPU", "", scEntryPoints, scEntrySource)...)
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", 0, 0, 0), "s")
	const runs = 20
	for range runs {
		expectOK(t, c, "AI.SCRIPTEXECUTE", "s", "scale", "INPUTS", "1", "a", "ARGS", "1", "2", "OUTPUTS", "1", "o")
	}
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", -1, runs, 0), "s")
	info, l := runLatency(t, c, "s")
	checkRunTime(t, info, l)
	expectOK(t, c, "AI.INFO", "s", "RESETSTAT")
	expectRunInfo(t, c, scriptRunInfo("s", "CPU", "", 0, 0, 0), "s")
	expectNoLatency(t, c, "s")
}
