package lab

import "testing"

func TestParseArping(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    string
		wantErr bool
	}{
		{
			name: "reply",
			out: "ARPING 10.99.0.11 from 10.99.0.100 eth0\n" +
				"Unicast reply from 10.99.0.11 [02:99:00:00:00:0B]  0.614ms\nSent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n",
			want: "02:99:00:00:00:0b",
		},
		{
			name:    "no reply",
			out:     "ARPING 10.99.0.200 from 10.99.0.100 eth0\nSent 3 probes (3 broadcast(s))\nReceived 0 response(s)\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseArping(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseArping() error = %v, want error %t", err, tt.wantErr)
			}
			if err == nil && got.String() != tt.want {
				t.Errorf("parseArping() = %s, want %s", got, tt.want)
			}
		})
	}
}
