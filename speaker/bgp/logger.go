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
	"github.com/go-logr/logr"
	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// logger hands GoBGP's messages to logr: errors as errors, warnings at V(0), information (peer up and down,
// configuration) at V(1), debug at V(2). Panic and Fatal never exit: a library must not end the speaker.
type logger struct {
	log logr.Logger
}

func newLogger(l logr.Logger) gobgplog.Logger { return &logger{log: l.WithName("gobgp")} }

func keysAndValues(fields gobgplog.Fields) []any {
	kv := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		kv = append(kv, k, v)
	}
	return kv
}

func (l *logger) Panic(msg string, fields gobgplog.Fields) {
	l.log.Error(nil, msg, keysAndValues(fields)...)
}
func (l *logger) Fatal(msg string, fields gobgplog.Fields) {
	l.log.Error(nil, msg, keysAndValues(fields)...)
}
func (l *logger) Error(msg string, fields gobgplog.Fields) {
	l.log.Error(nil, msg, keysAndValues(fields)...)
}
func (l *logger) Warn(msg string, fields gobgplog.Fields) { l.log.Info(msg, keysAndValues(fields)...) }
func (l *logger) Info(msg string, fields gobgplog.Fields) {
	l.log.V(1).Info(msg, keysAndValues(fields)...)
}
func (l *logger) Debug(msg string, fields gobgplog.Fields) {
	l.log.V(2).Info(msg, keysAndValues(fields)...)
}

// SetLevel is ignored: the logr sink decides.
func (l *logger) SetLevel(gobgplog.LogLevel) {}

// GetLevel tells GoBGP whether to build debug messages at all.
func (l *logger) GetLevel() gobgplog.LogLevel {
	if l.log.V(2).Enabled() {
		return gobgplog.DebugLevel
	}
	return gobgplog.InfoLevel
}
