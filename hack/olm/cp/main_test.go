package main

import (
	"slices"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		verbose  bool
		operands []string
		err      bool
	}{
		{"OLM's unpack Job", []string{"-Rv", "/bin/cpb", "/util/cpb"}, true, []string{"/bin/cpb", "/util/cpb"}, false},
		{"separate options", []string{"-R", "-v", "a", "b", "dir"}, true, []string{"a", "b", "dir"}, false},
		{"no options", []string{"a", "b"}, false, []string{"a", "b"}, false},
		{"operands after --", []string{"--", "-a", "b"}, false, []string{"-a", "b"}, false},
		{"unknown option", []string{"-Rx", "a", "b"}, false, nil, true},
		{"one operand", []string{"-v", "a"}, false, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verbose, operands, err := parseArgs(tt.args)
			if (err != nil) != tt.err || verbose != tt.verbose || !slices.Equal(operands, tt.operands) {
				t.Errorf("parseArgs(%q) = %t, %q, %v; want %t, %q, error %t", tt.args, verbose, operands, err, tt.verbose, tt.operands, tt.err)
			}
		})
	}
}
