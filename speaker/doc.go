// Package speaker is the glue of the speaker binary: it watches Services, EndpointSlices, Nodes and the
// configuration, asks the pure deciders (internal/config, internal/election, internal/advertise) what this
// node must announce, and drives the layer-2 Announcer and the BGP Router (speaker/bgp) accordingly. It writes
// the speaker's ConfigurationState, the ServiceL2Status and ServiceBGPStatus objects of the Services this node
// announces, the nodeAssigned events, and the sessionUp/sessionDown events of the BGPPeers.
//
// Two rules shape it. An invalid new configuration is reported and otherwise ignored: the previous valid one
// stays in force, so a bad edit never withdraws a working announcement. And announcements live in memory
// only: while the API server is unreachable, the speaker goes on answering for what it owns.
//
// Decisions belong in internal/; this package must not grow any.
package speaker
