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

package memberlist

import (
	"strings"

	"github.com/go-logr/logr"
)

// logWriter feeds memberlist's *log.Logger into logr. memberlist logs every failed probe and stream at
// [ERR] or [WARN], which is routine while a peer is down, so all of it goes to the V(1) logger the
// writer holds; the decisions that matter (membership changes) reach the glue through Changes.
// memberlist never logs the gossip key.
type logWriter struct {
	log logr.Logger
}

func (w logWriter) Write(p []byte) (int, error) {
	if !w.log.Enabled() {
		return len(p), nil
	}
	line := strings.TrimSpace(string(p))
	level := ""
	// memberlist lines look like "[WARN] memberlist: Refuting a suspect message (from: b)".
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 0 {
			level, line = line[1:end], strings.TrimSpace(line[end+1:])
		}
	}
	w.log.Info("Memberlist", "level", level, "line", line)
	return len(p), nil
}
