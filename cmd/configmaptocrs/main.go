/*
Copyright 2026 The ferrolb Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command configmaptocrs converts MetalLB's legacy configuration (the ConfigMap `config` read before v0.13) into
// ferrolb's metallb.io custom resources, offline. It reads a ConfigMap manifest, a bare `config` payload or
// Helm values with configInline from the files given, or standard input, and writes the resources as one
// YAML stream. Unlike MetalLB's converter it exits non-zero, writing nothing, on any problem.
//
// The conversion lives in internal/migrate; this command only reads, writes and reports.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferrolb/ferrolb/internal/migrate"
)

// Exit codes.
const (
	exitOK         = 0
	exitFailed     = 1 // the input could not be read or converted
	exitUsageError = 2 // bad flags
)

const usage = `Usage: configmaptocrs [flags] [FILE...]

Converts MetalLB's legacy configuration into ferrolb's metallb.io custom resources.

Input (from the FILEs, or standard input when there is none or FILE is "-"): a ConfigMap
manifest with the configuration under data.config, the bare configuration, or Helm values
with configInline. The format is detected.

Exit status: 0 on success, 1 when the input cannot be read or converted (nothing is
written), 2 on bad flags.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("configmaptocrs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	namespace := fs.String("namespace", migrate.DefaultNamespace,
		"namespace of the resources; without this flag, the ConfigMap's own namespace when it has one")
	var output string
	fs.StringVar(&output, "output", "", "write the resources to this file instead of standard output")
	fs.StringVar(&output, "o", "", "shorthand for --output")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsageError
	}
	namespaceSet := false
	fs.Visit(func(f *flag.Flag) { namespaceSet = namespaceSet || f.Name == "namespace" })
	if namespaceSet && *namespace == "" {
		fmt.Fprintln(stderr, "configmaptocrs: --namespace must not be empty")
		return exitUsageError
	}

	fail := func(err error) int {
		fmt.Fprintf(stderr, "configmaptocrs: %v\nNothing written.\n", err)
		return exitFailed
	}

	data, err := readInputs(fs.Args(), stdin)
	if err != nil {
		return fail(err)
	}
	override := ""
	if namespaceSet {
		override = *namespace
	}
	conv, err := migrate.ConvertFile(data, override)
	if err != nil {
		return fail(err)
	}
	if err := writeOutput(output, stdout, conv.YAML); err != nil {
		return fail(err)
	}

	fmt.Fprintf(stderr, "Read the legacy configuration from %s\n", conv.Input.Source)
	for _, r := range conv.Result.Renames {
		fmt.Fprintf(stderr, "Renamed %s %q to %q\n", r.Kind, r.From, r.To)
	}
	dest := "standard output"
	if output != "" && output != "-" {
		dest = output
	}
	fmt.Fprintf(stderr, "Wrote %d resources in namespace %s to %s\n", len(conv.Result.Objects()), conv.Namespace, dest)
	return exitOK
}

// readInputs reads the files, or standard input for none or "-", as one multi-document stream.
func readInputs(paths []string, stdin io.Reader) ([]byte, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var docs [][]byte
	stdinRead := false
	for _, p := range paths {
		var data []byte
		var err error
		if p == "-" {
			if stdinRead {
				continue
			}
			stdinRead = true
			data, err = io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading standard input: %w", err)
			}
		} else if data, err = os.ReadFile(p); err != nil {
			return nil, err
		}
		docs = append(docs, data)
	}
	return bytes.Join(docs, []byte("\n---\n")), nil
}

// writeOutput writes data to standard output, or atomically to the file path: a failed write leaves no
// partial file behind.
func writeOutput(path string, stdout io.Writer, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+strings.TrimPrefix(filepath.Base(path), ".")+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
