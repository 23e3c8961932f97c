//go:build e2e

package e2e

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// md5Unsupported reports whether the kernel refuses TCP_MD5SIG (RFC 2385) outright (ENOPROTOOPT), as kernels
// built without CONFIG_TCP_MD5SIG and some sandboxes do. The lab's hosts share the machine's kernel.
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
