package lab

import (
	"fmt"
	"net"
	"regexp"
)

// arpingReply matches iputils-arping's answer line: "Unicast reply from 10.99.0.11 [02:99:00:00:00:0B]  0.6ms".
var arpingReply = regexp.MustCompile(`reply from \S+ \[([0-9A-Fa-f:]{17})\]`)

// parseArping returns the hardware address of the first reply in arping's output.
func parseArping(out string) (net.HardwareAddr, error) {
	m := arpingReply.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no reply in arping's output:\n%s", out)
	}
	return net.ParseMAC(m[1])
}
