package server

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"

	"gorai/backends"
)

// Versions reported in INFO: gorai speaks RedisAI 1.2.7's protocol and RDB format.
const (
	redisAIVersion     = "1.2.7"
	lowLevelAPIVersion = 1
	rdbEncodingVersion = 4
	goraiVersion       = "0.1.0"
)

// InfoWriter is where INFO's sections go (Redis puts "ai_" before each field).
type InfoWriter interface {
	Section(name string)
	String(field, value string)
	Integer(field string, value int64)
}

// Info writes the module's INFO sections, with RedisAI's section and field names; gitSHA is the
// commit the module was built from. Call it on Redis' main thread (its CPU is "main_thread").
func (s *Server) Info(w InfoWriter, gitSHA string) {
	w.Section("versions")
	w.String("RedisAI_version", redisAIVersion)
	w.Integer("low_level_API_version", lowLevelAPIVersion)
	w.Integer("rdb_version", rdbEncodingVersion)
	w.Section("git")
	w.String("git_sha", gitSHA)
	w.Section("load_time_configs")
	w.Integer("threads_per_queue", s.Config.ThreadsPerQueue)
	w.Integer("inter_op_parallelism", s.Config.InterOpParallelism)
	w.Integer("intra_op_parallelism", s.Config.IntraOpParallelism)
	w.Integer("model_execution_timeout", s.Config.ModelExecutionTimeout)
	w.Integer("backend_memory_limit", s.Config.BackendMemoryLimit)
	w.Section("backends_info")
	s.backendsInfo(w)
	w.Section("cpu")
	s.cpuInfo(w)
	// RedisAI's tests compare its versions section whole and find its five sections by their
	// position after "# Modules": gorai's own go after them.
	w.Section("gorai")
	w.String("gorai_version", goraiVersion)
	w.Section("backends_config")
	w.String("backends_path", s.Config.BackendsPath)
	w.Integer("model_chunk_size", s.Config.ModelChunkSize)
	w.String("preload_backends", yesNo(s.Config.PreloadBackends))
	w.Integer("main_thread_run_limit", s.Config.MainThreadRunLimit)
	for _, b := range backends.Names() {
		if p, ok := s.Config.BackendPaths[b]; ok {
			w.String(strings.ToLower(b)+"_path", p)
		}
	}
}

// backendsInfo is each loaded backend's own fields.
func (s *Server) backendsInfo(w InfoWriter) {
	env := backends.InfoEnv{RunSessions: int64(len(s.Engine.Queues())) * s.Config.ThreadsPerQueue}
	for _, d := range backends.Drivers() {
		b := backends.Loaded(d.Name)
		if b == nil || d.Info == nil {
			continue
		}
		for _, f := range d.Info(b, env) {
			switch v := f.Value.(type) {
			case int64:
				w.Integer(f.Name, v)
			default:
				w.String(f.Name, fmt.Sprint(v))
			}
		}
	}
}

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1

// cpuInfo is the CPU time of the process, its children, the calling (main) thread and each worker.
func (s *Server) cpuInfo(w InfoWriter) {
	for _, u := range []struct {
		who   string
		which int
	}{{"self", syscall.RUSAGE_SELF}, {"children", syscall.RUSAGE_CHILDREN}, {"main_thread", rusageThread}} {
		var r syscall.Rusage
		if syscall.Getrusage(u.which, &r) == nil {
			w.String(u.who+"_used_cpu_sys", seconds(time.Duration(r.Stime.Nano())))
			w.String(u.who+"_used_cpu_user", seconds(time.Duration(r.Utime.Nano())))
		}
	}
	queues := s.Engine.Queues()
	sort.Strings(queues)
	for _, name := range queues {
		q := s.Engine.Queue(name)
		for i, cpu := range q.WorkerCPU() {
			w.String(fmt.Sprintf("queue_%s_bthread_n%d_used_cpu_total", name, i+1), seconds(cpu))
		}
		batches, runs := q.BatchCounts()
		w.Integer("queue_"+name+"_batches", batches)
		w.Integer("queue_"+name+"_batched_runs", runs)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// seconds formats a CPU time as Redis does ("seconds.micros").
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d.%06d", d/time.Second, d%time.Second/time.Microsecond)
}
