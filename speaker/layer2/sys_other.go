//go:build !linux

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

package layer2

import (
	"errors"
	"net/netip"
)

// errUnsupported is returned by every system call of the responders outside Linux.
var errUnsupported = errors.New("layer 2 responders are only supported on Linux")

func defaultSystem() system { return unsupportedSystem{} }

type unsupportedSystem struct{}

func (unsupportedSystem) links() ([]Link, error) { return nil, errUnsupported }

func (unsupportedSystem) dialARP(Link) (arpConn, error) { return nil, errUnsupported }

func (unsupportedSystem) dialNDP(Link) (ndpConn, netip.Addr, error) {
	return nil, netip.Addr{}, errUnsupported
}
