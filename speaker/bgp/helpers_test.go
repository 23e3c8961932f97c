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

package bgp

import (
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// testLogger logs to stderr with -v, GoBGP's messages included, and nowhere otherwise. It does not log
// through t: GoBGP's goroutines may still log after the test ended.
func testLogger(t *testing.T) logr.Logger {
	if !testing.Verbose() {
		return logr.Discard()
	}
	name := t.Name()
	return funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, name, prefix, args)
	}, funcr.Options{Verbosity: 1})
}
