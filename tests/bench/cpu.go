package main

// CPU time of a process, of one of its threads and of this process, read from the kernel, so a
// cell can print CPU per run beside runs per second.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// processCPU is the user plus system time of every thread pid has run, finished threads included.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	// utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime or stime", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// threadCPU is the time thread tid of pid has spent on a CPU, in nanoseconds (schedstat's first
// field, finer than stat's ticks).
func threadCPU(pid, tid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/schedstat", pid, tid))
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	return time.Duration(ns), err
}

// selfCPU is this process's user plus system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// liveThreadsCPU is the time pid's threads still running have spent on a CPU, in nanoseconds (the sum
// of their schedstat; finished threads are not counted).
func liveThreadsCPU(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		cpu, err := threadCPU(pid, tid)
		if errors.Is(err, fs.ErrNotExist) { // it finished meanwhile
			continue
		}
		if err != nil {
			return 0, err
		}
		total += cpu
	}
	return total, nil
}

// serverLoad runs calls for d, each on its own goroutine (throughput), and returns the runs per
// second with the server's CPU time per run, all threads and its main thread alone.
func serverLoad(pid int, calls []func() error, d time.Duration) (rate float64, cpu, mainCPU time.Duration, err error) {
	cpu0, err1 := processCPU(pid)
	main0, err2 := threadCPU(pid, pid)
	start := time.Now()
	rate, err = throughput(calls, d)
	runs := rate * time.Since(start).Seconds()
	cpu1, err3 := processCPU(pid)
	main1, err4 := threadCPU(pid, pid)
	if err = errors.Join(err, err1, err2, err3, err4); err != nil {
		return 0, 0, 0, err
	}
	return rate, time.Duration(float64(cpu1-cpu0) / runs), time.Duration(float64(main1-main0) / runs), nil
}
