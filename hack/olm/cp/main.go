// Command cp is the /bin/cp of the lab's OLM image. OLM's bundle unpack Jobs run `/bin/cp -Rv /bin/cpb
// /util/cpb` in the util image (upstream, busybox's cp in a distroless debug image); the lab's images hold
// static Go programs only, so this is the part of cp those Jobs use: copying regular files, -R and -v accepted.
//
//	cp [-R] [-v] SOURCE... DEST
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	verbose, args, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "cp: %v\nusage: cp [-R] [-v] SOURCE... DEST\n", err)
		os.Exit(2)
	}
	srcs, dst := args[:len(args)-1], args[len(args)-1]
	st, err := os.Stat(dst)
	intoDir := err == nil && st.IsDir()
	if len(srcs) > 1 && !intoDir {
		fmt.Fprintf(os.Stderr, "cp: target %s is not a directory\n", dst)
		os.Exit(1)
	}
	for _, src := range srcs {
		to := dst
		if intoDir {
			to = filepath.Join(dst, filepath.Base(src))
		}
		if err := copyFile(src, to); err != nil {
			fmt.Fprintf(os.Stderr, "cp: %v\n", err)
			os.Exit(1)
		}
		if verbose {
			fmt.Printf("'%s' -> '%s'\n", src, to)
		}
	}
}

// parseArgs reads cp's options as POSIX utilities take them, grouped or not ("-Rv", "-R -v"), up to "--" or
// the first operand, and returns the operands (at least a source and a destination).
func parseArgs(args []string) (verbose bool, operands []string, err error) {
	i := 0
	for ; i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-"; i++ {
		if args[i] == "--" {
			i++
			break
		}
		for _, o := range args[i][1:] {
			switch o {
			case 'R', 'r': // the sources are files: nothing to recurse into
			case 'v':
				verbose = true
			default:
				return false, nil, fmt.Errorf("unsupported option -%c", o)
			}
		}
	}
	operands = args[i:]
	if len(operands) < 2 {
		return false, nil, fmt.Errorf("a source and a destination are required")
	}
	return verbose, operands, nil
}

// copyFile copies src to dst with src's permission bits.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: only regular files are supported", src)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
