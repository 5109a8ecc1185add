package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The linker drops every method that nothing can call, unless a function
// the program can reach calls reflect's Method or MethodByName with a name
// it cannot see: then it keeps every exported method of every type that is
// converted to an interface, since any could be called by name. That
// doubled keygate's code once (gorm v1.31's hook lookup, see
// third_party/README.md): 25 MB of binary became 35, and what keygate's
// process maps of it grew by 4 MiB. The linker marks such functions
// <ReflectMethod> in its -dumpdep output.
func TestLinkerDropsUncalledMethods(t *testing.T) {
	cmd := exec.Command("go", "build", "-ldflags=-dumpdep", "-o", os.DevNull, ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%s", err, tail(stderr.String(), 2000))
	}
	var marked []string
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		// "caller -> callee <ReflectMethod>" or "caller <ReflectMethod> -> callee"
		for part := range strings.SplitSeq(sc.Text(), " -> ") {
			if fn, ok := strings.CutSuffix(part, " <ReflectMethod>"); ok && !slices.Contains(marked, fn) {
				marked = append(marked, fn)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if lines < 10000 {
		t.Fatalf("-dumpdep printed %d lines: not the linker's graph?\n%s", lines, tail(stderr.String(), 2000))
	}
	if len(marked) > 0 {
		t.Errorf("keygate reaches functions that call reflect's Method or MethodByName with a name the linker cannot see, "+
			"so it keeps every exported method of every type: %s", strings.Join(marked, ", "))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
