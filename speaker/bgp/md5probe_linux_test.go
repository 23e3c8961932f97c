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
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// md5Unsupported reports whether the kernel refuses TCP_MD5SIG (RFC 2385) outright, as kernels built without
// CONFIG_TCP_MD5SIG and some sandboxes do.
func md5Unsupported() (bool, error) {
	l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return false, err
	}
	defer l.Close()
	raw, err := l.SyscallConn()
	if err != nil {
		return false, err
	}
	// struct tcp_md5sig: sockaddr_storage, flags, prefixlen, keylen, ifindex, key[80].
	var sig [216]byte
	*(*uint16)(unsafe.Pointer(&sig[0])) = syscall.AF_INET
	copy(sig[4:8], []byte{127, 0, 0, 1})
	*(*uint16)(unsafe.Pointer(&sig[130])) = 1
	sig[136] = 'x'
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		sockErr = syscall.SetsockoptString(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MD5SIG, string(sig[:]))
	})
	if err != nil {
		return false, err
	}
	return errors.Is(sockErr, syscall.ENOPROTOOPT), nil
}
