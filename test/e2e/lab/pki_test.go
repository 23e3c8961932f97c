package lab

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"testing"
)

func TestIssue(t *testing.T) {
	ca, err := newAuthority()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.issue(certSpec{commonName: "kube-apiserver", server: true,
		ips: []netip.Addr{Node(1).IPv4, firstServiceIP(ServiceCIDR6)}, dnsNames: []string{"kubernetes.default"}})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pair.cert)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	for _, host := range []string{"10.99.0.11", "fd99:96::1", "kubernetes.default"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host}); err != nil {
			t.Errorf("the serving certificate does not verify for %s: %v", host, err)
		}
	}
	client, err := ca.issue(certSpec{commonName: "system:node:node1", groups: []string{"system:nodes"}})
	if err != nil {
		t.Fatal(err)
	}
	block, _ = pem.Decode(client.cert)
	cert, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "system:node:node1" || len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "system:nodes" {
		t.Errorf("client subject = %v, want CN=system:node:node1 O=system:nodes", cert.Subject)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the client certificate does not verify: %v", err)
	}
}
