package tests

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

func moduleInfo(t *testing.T, c *resp.Conn) []redistest.InfoSection {
	t.Helper()
	v := do(t, c, "INFO", "MODULES")
	if v.Kind != resp.Bulk {
		t.Fatalf("INFO MODULES: %v", v)
	}
	return redistest.ParseInfoSections(v.Text())
}

func findSection(secs []redistest.InfoSection, name string) (redistest.InfoSection, int) {
	for i, s := range secs {
		if s.Name == name {
			return s, i
		}
	}
	return redistest.InfoSection{}, -1
}

func fieldMap(s redistest.InfoSection) map[string]string {
	m := map[string]string{}
	for _, f := range s.Fields {
		m[f[0]] = f[1]
	}
	return m
}

var loadTimeConfigFields = []string{
	"ai_threads_per_queue",
	"ai_inter_op_parallelism",
	"ai_intra_op_parallelism",
	"ai_model_execution_timeout",
	"ai_backend_memory_limit",
}

// checkLoadTimeConfigs checks the section has exactly the five fields, in order, with these values.
func checkLoadTimeConfigs(t *testing.T, secs []redistest.InfoSection, want []string) {
	t.Helper()
	sec, idx := findSection(secs, "ai_load_time_configs")
	if idx < 0 {
		t.Fatalf("INFO MODULES has no \"# ai_load_time_configs\" section; sections: %v", sectionNames(secs))
	}
	var got []string
	for _, f := range sec.Fields {
		got = append(got, f[0]+":"+f[1])
	}
	var exp []string
	for i, name := range loadTimeConfigFields {
		exp = append(exp, name+":"+want[i])
	}
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("# ai_load_time_configs\n   got: %q\n  want: %q", got, exp)
	}
}

func sectionNames(secs []redistest.InfoSection) []string {
	var n []string
	for _, s := range secs {
		n = append(n, s.Name)
	}
	return n
}

func TestInfoModulesDefaults(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	secs := moduleInfo(t, c)
	t.Logf("INFO MODULES sections: %v", sectionNames(secs))

	ver, vi := findSection(secs, "ai_versions")
	if vi < 0 {
		t.Fatalf("no \"# ai_versions\" section in INFO MODULES; sections: %v", sectionNames(secs))
	}
	// Exactly RedisAI's three fields, in this order: RedisAI's tests compare the section whole.
	var names []string
	for _, f := range ver.Fields {
		names = append(names, f[0])
	}
	want := []string{"ai_RedisAI_version", "ai_low_level_API_version", "ai_rdb_version"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("# ai_versions fields = %v, want exactly %v", names, want)
	}
	if own, _ := findSection(secs, "ai_gorai"); fieldMap(own)["ai_gorai_version"] == "" {
		t.Errorf("no ai_gorai_version in a \"# ai_gorai\" section; sections: %v", sectionNames(secs))
	}
	// RedisAI's own tests take its sections by position: the n-th after "# Modules".
	redisAI := []string{"Modules", "ai_versions", "ai_git", "ai_load_time_configs", "ai_backends_info", "ai_cpu"}
	if got := sectionNames(secs); len(got) < len(redisAI) || strings.Join(got[:len(redisAI)], ",") != strings.Join(redisAI, ",") {
		t.Errorf("INFO MODULES sections %v, want RedisAI's %v first, in its order", got, redisAI)
	}
	vm := fieldMap(ver)
	version := vm["ai_RedisAI_version"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
		t.Errorf("ai_RedisAI_version = %q, want M.m.p", version)
	}
	if vm["ai_low_level_API_version"] != "1" {
		t.Errorf("ai_low_level_API_version = %q, want 1", vm["ai_low_level_API_version"])
	}
	if vm["ai_rdb_version"] != "4" {
		t.Errorf("ai_rdb_version = %q, want 4", vm["ai_rdb_version"])
	}
	t.Logf("ai_RedisAI_version = %s", version)

	checkLoadTimeConfigs(t, secs, []string{"1", "0", "0", "5000", "0"})
	if _, li := findSection(secs, "ai_load_time_configs"); li >= 0 && li < vi {
		t.Errorf("# ai_load_time_configs comes before # ai_versions: %v", sectionNames(secs))
	}

	// The module is registered as "ai", with version major*10000+minor*100+patch.
	mods, mi := findSection(secs, "Modules")
	if mi < 0 {
		t.Fatalf("no \"# Modules\" section")
	}
	line := fieldMap(mods)["module"]
	if !strings.HasPrefix(line, "name=ai,") {
		t.Errorf("module line %q, want name=ai", line)
	}
	var maj, mnr, pat int
	if _, err := fmt.Sscanf(version, "%d.%d.%d", &maj, &mnr, &pat); err == nil {
		want := "ver=" + strconv.Itoa(maj*10000+mnr*100+pat) + ","
		if !strings.Contains(line, want) {
			t.Errorf("module line %q lacks %q (matching ai_RedisAI_version %s)", line, want, version)
		}
	}
	if !strings.Contains(line, "handle-io-errors") {
		t.Errorf("module line %q lacks options=[handle-io-errors]", line)
	}

	// INFO everything and INFO ai_versions carry the same section
	all := do(t, c, "INFO", "everything")
	if !strings.Contains(all.Text(), "# ai_versions\r\n") || !strings.Contains(all.Text(), "ai_rdb_version:4\r\n") {
		t.Errorf("INFO everything lacks the ai_versions section")
	}
}

func TestInfoLoadTimeArgs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"THREADS_PER_QUEUE", "4", "INTRA_OP_PARALLELISM", "2"}, []string{"4", "0", "2", "5000", "0"}},
		{[]string{"INTER_OP_PARALLELISM", "3"}, []string{"1", "3", "0", "5000", "0"}},
		{[]string{"threads_per_queue", "2", "inter_op_parallelism", "1", "intra_op_parallelism", "1"}, []string{"2", "1", "1", "5000", "0"}},
		{[]string{"MODEL_EXECUTION_TIMEOUT", "2000"}, []string{"1", "0", "0", "2000", "0"}},
		{[]string{"MODEL_CHUNK_SIZE", "1024", "THREADS_PER_QUEUE", "3"}, []string{"3", "0", "0", "5000", "0"}},
		{[]string{"BACKENDSPATH", "/nonexistent/backends", "THREADS_PER_QUEUE", "2"}, []string{"2", "0", "0", "5000", "0"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			s := redistest.Start(t, redistest.Options{ModuleArgs: tc.args})
			c := s.Conn(t)
			checkLoadTimeConfigs(t, moduleInfo(t, c), tc.want)
			expectOK(t, c, "AI.TENSORSET", "k", "FLOAT", "1")
		})
	}
}

func TestInfoBadLoadTimeArgsRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args    []string
		mention string // text the log must contain, if any
	}{
		{[]string{"NOT_AN_OPTION", "1"}, "NOT_AN_OPTION"},
		{[]string{"THREADS_PER_QUEUE", "2", "NOT_AN_OPTION", "1"}, "NOT_AN_OPTION"},
		{[]string{"THREADS_PER_QUEUE"}, ""},
		{[]string{"THREADS_PER_QUEUE", "4", "INTRA_OP_PARALLELISM"}, ""},
		{[]string{"THREADS_PER_QUEUE", "0"}, ""},
		{[]string{"THREADS_PER_QUEUE", "abc"}, ""},
		{[]string{"INTRA_OP_PARALLELISM", "0"}, ""},
		{[]string{"INTER_OP_PARALLELISM", "-1"}, ""},
		{[]string{"MODEL_EXECUTION_TIMEOUT", "999"}, ""},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			s, err := redistest.Launch(redistest.Options{ModuleArgs: tc.args, Dir: t.TempDir()})
			if err == nil {
				defer s.Stop()
				c, _ := s.Dial()
				var secs string
				if c != nil {
					v, _ := c.Do("INFO", "MODULES")
					secs = v.Text()
					c.Close()
				}
				t.Fatalf("redis-server started with module args %q; it must refuse to load the module.\nINFO MODULES:\n%s", tc.args, secs)
			}
			var se *redistest.StartError
			if !errors.As(err, &se) {
				t.Fatalf("unexpected error: %v", err)
			}
			if strings.Contains(se.Reason, "module not found") {
				t.Fatalf("%v", err)
			}
			if se.ExitCode == 0 {
				t.Errorf("redis-server exited with code 0; want a failure exit\n%s", se.Log)
			}
			if tc.mention != "" && !strings.Contains(se.Log, tc.mention) {
				t.Errorf("server log does not mention %q:\n%s", tc.mention, se.Log)
			}
			if !strings.Contains(se.Log, "Module") && !strings.Contains(se.Log, "module") {
				t.Errorf("server log does not say the module failed to load:\n%s", se.Log)
			}
		})
	}
}

// TestInfoCPU: the ai_cpu section has RedisAI's fields: the process', its children's and the main
// thread's CPU time, and one total per worker of each queue, which grows when a worker runs (every
// run does here: none is made on the main thread).
func TestInfoCPU(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"THREADS_PER_QUEUE", "2", "MAIN_THREAD_RUN_LIMIT", "0"}})
	c := s.Conn(t)
	cpu := func() map[string]string {
		sec, i := findSection(moduleInfo(t, c), "ai_cpu")
		if i < 0 {
			t.Fatal("INFO MODULES has no ai_cpu section")
		}
		return fieldMap(sec)
	}
	before := cpu()
	for _, f := range []string{"ai_self_used_cpu_sys", "ai_self_used_cpu_user", "ai_children_used_cpu_sys",
		"ai_children_used_cpu_user", "ai_main_thread_used_cpu_sys", "ai_main_thread_used_cpu_user",
		"ai_queue_CPU_bthread_n1_used_cpu_total", "ai_queue_CPU_bthread_n2_used_cpu_total"} {
		if _, err := strconv.ParseFloat(before[f], 64); err != nil {
			t.Errorf("%s = %q, want seconds", f, before[f])
		}
	}
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))
	for i := 0; i < 2000; i++ {
		expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	}
	after := cpu()
	total := func(m map[string]string) float64 {
		a, _ := strconv.ParseFloat(m["ai_queue_CPU_bthread_n1_used_cpu_total"], 64)
		b, _ := strconv.ParseFloat(m["ai_queue_CPU_bthread_n2_used_cpu_total"], 64)
		return a + b
	}
	if total(after) <= total(before) {
		t.Errorf("the CPU workers' time did not grow over 2000 runs: %v then %v", before, after)
	}
}

// TestSlowlogCountsRuns: a run's time on a worker counts as the command's own in SLOWLOG and INFO
// commandstats, as RedisAI's does (its tests compare SLOWLOG's durations with AI.INFO's): with every run a
// worker's, the AI.MODELEXECUTE entries of SLOWLOG add up to at least the model's AI.INFO duration, and
// commandstats' usec to at least as much. (Only the main thread's part was counted before.)
func TestSlowlogCountsRuns(t *testing.T) {
	t.Parallel()
	mnist := redisaiFixture(t, "mnist.onnx")
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"MAIN_THREAD_RUN_LIMIT", "0"}})
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", mnist)...)
	setMnistInput(t, c, "in", mnistInput(t))
	expectOK(t, c, "CONFIG", "SET", "slowlog-log-slower-than", "0")
	expectOK(t, c, "CONFIG", "SET", "slowlog-max-len", "1000")
	expectOK(t, c, "SLOWLOG", "RESET")
	const runs = 20
	for i := 0; i < runs; i++ {
		expectOK(t, c, execArgs("m", []string{"in"}, []string{"out"})...)
	}
	runTime := int64(0)
	for i, f := range do(t, c, "AI.INFO", "m").Elems {
		if f.Text() == "duration" {
			runTime = do(t, c, "AI.INFO", "m").Elems[i+1].Int
		}
	}
	var logged, entries int64
	for _, e := range do(t, c, "SLOWLOG", "GET", "1000").Elems {
		if len(e.Elems) > 3 && len(e.Elems[3].Elems) > 0 && strings.EqualFold(e.Elems[3].Elems[0].Text(), "AI.MODELEXECUTE") {
			logged += e.Elems[2].Int
			entries++
		}
	}
	if entries != runs || runTime <= 0 || logged < runTime {
		t.Errorf("SLOWLOG: %d AI.MODELEXECUTE entries of %d µs in all; AI.INFO duration %d µs: want %d entries, at least the duration", entries, logged, runTime, runs)
	}
	stats := info(t, c, "commandstats")["cmdstat_ai.modelexecute"]
	usec := int64(-1)
	for _, kv := range strings.Split(stats, ",") {
		if v, ok := strings.CutPrefix(kv, "usec="); ok {
			usec, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if usec < runTime {
		t.Errorf("commandstats %q: usec %d, want at least AI.INFO's duration %d", stats, usec, runTime)
	}
}

// TestInfoLineBreaksStayInTheirField: a line break in a value or a field name that INFO shows (an admin's
// BACKENDSPATH, any storing client's device string, which names its queue's fields) does not start a line
// of its own: it wrote fields into INFO, `role:slave` on a master.
func TestInfoLineBreaksStayInTheirField(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	// AI.MODELSET (deprecated) takes nearly any device string of up to 10 bytes, as RedisAI did. It
	// comes first: the ONNX backend, if the preload has not opened it yet, is looked for under
	// BACKENDSPATH, which is then set to a folder that does not exist.
	expectOK(t, c, "AI.MODELSET", "m", "ONNX", "CPU\nrole:s", "BLOB", redisaiFixture(t, "mnist.onnx"))
	expectOK(t, c, "AI.CONFIG", "BACKENDSPATH", "/x\r\nrole:slave")
	v := do(t, c, "INFO", "EVERYTHING")
	if v.Kind != resp.Bulk {
		t.Fatalf("INFO EVERYTHING: %v", v)
	}
	var roles []string
	for _, line := range strings.Split(v.Text(), "\r\n") {
		if name, _, _ := strings.Cut(line, ":"); strings.EqualFold(name, "role") {
			roles = append(roles, line)
		}
	}
	if len(roles) != 1 || roles[0] != "role:master" {
		t.Errorf("INFO's role lines: %q, want only Redis' own role:master", roles)
	}
	if !strings.Contains(v.Text(), "ai_backends_path:/x  role:slave\r\n") {
		t.Errorf("INFO does not show BACKENDSPATH on one line, its breaks as spaces:\n%s", v.Text())
	}
}
