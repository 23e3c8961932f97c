// Command cp is the /bin/cp of the lab's OLM image. OLM's bundle unpack Jobs run `/bin/cp -Rv /bin/cpb
// /util/cpb` in the util image (upstream, busybox's cp in a distroless debug image); the lab's images hold
// static Go programs only, so this is the part of cp those Jobs use: copying regular files, -R and -v accepted.
//
//	cp [-R] [-v] SOURCE... DEST
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	flag.Bool("R", false, "copy directories recursively (accepted; sources are files)")
	verbose := flag.Bool("v", false, "print each copy")
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cp [-R] [-v] SOURCE... DEST")
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
		if *verbose {
			fmt.Printf("'%s' -> '%s'\n", src, to)
		}
	}
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
