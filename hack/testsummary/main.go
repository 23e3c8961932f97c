// Command testsummary reads `go test -json` on stdin and prints what a person needs: one line per package as
// `go test` prints it, the full output of every failed test (and of a package that failed outside a test), and
// a closing line "N passed, N failed, N skipped". It exits 1 when anything failed, including a build.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var (
	ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	// Ginkgo runs a whole suite inside one Go test; its closing line gives the real spec counts.
	ginkgoSummary = regexp.MustCompile(`(\d+) Passed \| (\d+) Failed \| (\d+) Pending \| (\d+) Skipped`)
)

// specCounts returns the spec counts of a Ginkgo suite's output, if the output is one.
func specCounts(out string) (passed, failed, skipped int, ok bool) {
	m := ginkgoSummary.FindStringSubmatch(ansi.ReplaceAllString(out, ""))
	if m == nil {
		return 0, 0, 0, false
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	return n(1), n(2), n(3) + n(4), true
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Elapsed    float64
	Output     string
}

func main() {
	output := map[string]*strings.Builder{} // "pkg\x00test" → output so far
	var passed, failed, skipped, pkgFailed int
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Not JSON: a build error or vet message printed by the go command itself.
			fmt.Println(string(line))
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Print(e.Output)
		case "build-fail":
			pkgFailed++
		case "output":
			b := output[key]
			if b == nil {
				b = &strings.Builder{}
				output[key] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				printPackage(e, output[key])
				if e.Action == "fail" {
					pkgFailed++
				}
			} else if p, f, sk, ok := specCounts(text(output[key])); ok && !strings.Contains(e.Test, "/") {
				passed, skipped = passed+p, skipped+sk
				if e.Action == "fail" {
					failed += max(f, 1)
					fmt.Printf("--- FAIL: %s (%s)\n%s", e.Test, e.Package, text(output[key]))
				}
			} else {
				switch e.Action {
				case "pass":
					passed++
				case "skip":
					skipped++
				case "fail":
					failed++
					fmt.Printf("--- FAIL: %s (%s)\n%s", e.Test, e.Package, text(output[key]))
				}
			}
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: reading input: %v\n", err)
		pkgFailed++
	}
	fmt.Println()
	if pkgFailed > 0 && failed == 0 {
		fmt.Printf("%d package(s) failed outside a test (build errors or a crash above)\n", pkgFailed)
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	if failed > 0 || pkgFailed > 0 {
		os.Exit(1)
	}
}

func printPackage(e event, out *strings.Builder) {
	switch {
	case e.Action == "pass":
		fmt.Printf("ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
	case e.Action == "skip":
		fmt.Printf("?   \t%s\t[no test files]\n", e.Package)
	default:
		// Only the package's own lines are left here: the failed tests' output was printed with them.
		fmt.Printf("%sFAIL\t%s\t%.3fs\n", text(out), e.Package, e.Elapsed)
	}
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}
