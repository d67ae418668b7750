package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100
// on every Linux architecture Go runs on.
const clockTicks = 100

// procStat is what the harness reads of one /proc/<pid>/stat line.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64 // clock ticks
}

// cpu is the process's own CPU seconds and those of its waited-for
// children (a postmaster's ended backends).
func (s procStat) cpu() float64 {
	return float64(s.utime+s.stime+s.cutime+s.cstime) / clockTicks
}

// parseProcStat parses a /proc/<pid>/stat line. The command name, in
// parentheses, may hold spaces and parentheses itself: the fields are
// counted from the last ')'.
func parseProcStat(line string) (procStat, error) {
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("/proc stat %q: no command name", line)
	}
	// After the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
	f := strings.Fields(line[end+1:])
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc stat %q: %d fields after the name", line, len(f))
	}
	num := func(i int) int64 {
		n, _ := strconv.ParseInt(f[i-3], 10, 64)
		return n
	}
	return procStat{ppid: int(num(4)), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17)}, nil
}

// readProcStat reads the stat of process pid.
func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(data))
}

// children are the processes whose parent is pid, found by reading every
// /proc/<pid>/stat (a process that ends meanwhile is skipped).
func children(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, dir := range dirs {
		child, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		if st, err := readProcStat(child); err == nil && st.ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// treeCPU is the CPU seconds of pid and of its children, the ended ones
// (waited for by pid) and the running ones: for a postmaster, all of
// PostgreSQL's processes. A child that ends between two readings moves
// from the second term to the first, so differences stay right.
func treeCPU(pid int) (float64, error) {
	st, err := readProcStat(pid)
	if err != nil {
		return 0, err
	}
	total := st.cpu()
	for _, c := range children(pid) {
		if cst, err := readProcStat(c); err == nil {
			total += cst.cpu()
		}
	}
	return total, nil
}

// statusKB reads one "Name:   123 kB" field of /proc/<pid>/<file>
// (status, smaps_rollup), in kB; 0 when it is missing.
func statusKB(pid int, file, field string) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
	if err != nil {
		return 0
	}
	return fieldKB(string(data), field)
}

// fieldKB finds "field:  N kB" in text and returns N.
func fieldKB(text, field string) int64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// treePSSMB is the proportional set size of pid and its running
// children together, in MB: shared memory (PostgreSQL's shared buffers)
// counted once across them, not once in each.
func treePSSMB(pid int) float64 {
	kb := statusKB(pid, "smaps_rollup", "Pss")
	for _, c := range children(pid) {
		kb += statusKB(c, "smaps_rollup", "Pss")
	}
	return float64(kb) / 1024
}
